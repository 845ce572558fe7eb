package io.layerswarm.oci;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An image reference {@code [host[:port]/]repository[:tag][@digest]}, validated against the
 * distribution spec's grammar. The first path component is taken as the registry host when it
 * contains a '.' or ':' or is {@code localhost} (the rule docker uses); otherwise the reference has
 * no registry and the caller supplies one.
 *
 * @param registry {@code host[:port]}, or {@code null}
 * @param repository the repository name, e.g. {@code library/alpine}
 * @param tag the tag, or {@code null}
 * @param digest the digest, or {@code null}
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

    /** Longest reference text accepted. */
    public static final int MAX_LENGTH = 1024;
    private static final int MAX_REPOSITORY_LENGTH = 255;

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DOMAIN_LABEL = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-fA-F:.]+\\]");

    /** Validates. */
    public ImageReference {
        Objects.requireNonNull(repository, "repository");
        if (registry != null) {
            checkRegistry(registry, registry);
        }
        checkRepository(repository, repository);
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new OciFormatException("invalid tag '" + OciJson.abbreviate(tag)
                    + "': must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        }
    }

    /**
     * Parses a reference.
     *
     * @throws OciFormatException naming what is wrong
     */
    public static ImageReference parse(String text) {
        Objects.requireNonNull(text, "reference");
        if (text.isEmpty()) {
            throw new OciFormatException("invalid image reference: empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new OciFormatException("invalid image reference: " + text.length() + " characters, over " + MAX_LENGTH);
        }
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse(rest.substring(at + 1));
            } catch (IllegalArgumentException e) {
                throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(text) + "': " + e.getMessage(), e);
            }
            rest = rest.substring(0, at);
        }
        String registry = null;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")) {
                registry = first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0 && colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (tag.isEmpty()) {
                throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(text) + "': empty tag after ':'");
            }
        }
        if (registry != null) {
            checkRegistry(registry, text);
        }
        checkRepository(rest, text);
        return new ImageReference(registry, rest, tag, digest);
    }

    private static void checkRegistry(String registry, String context) {
        String host = registry;
        int colon = registry.lastIndexOf(':');
        if (colon >= 0 && !registry.endsWith("]")) {
            host = registry.substring(0, colon);
            String port = registry.substring(colon + 1);
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) == 0 || Integer.parseInt(port) > 65535) {
                throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context)
                        + "': registry port '" + OciJson.abbreviate(port) + "' is not a number in 1-65535");
            }
        }
        if (IPV6.matcher(host).matches()) {
            return;
        }
        if (host.isEmpty() || host.length() > 253) {
            throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context) + "': empty or overlong registry host");
        }
        for (String label : host.split("\\.", -1)) {
            if (!DOMAIN_LABEL.matcher(label).matches()) {
                throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context)
                        + "': registry host '" + OciJson.abbreviate(host) + "' is not a valid host name");
            }
        }
    }

    private static void checkRepository(String repository, String context) {
        if (repository.isEmpty()) {
            throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context) + "': empty repository name");
        }
        if (repository.length() > MAX_REPOSITORY_LENGTH) {
            throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context)
                    + "': repository name is " + repository.length() + " characters, over " + MAX_REPOSITORY_LENGTH);
        }
        for (String c : repository.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw new OciFormatException("invalid image reference '" + OciJson.abbreviate(context)
                        + "': repository component '" + OciJson.abbreviate(c)
                        + "' must be lower-case letters and digits separated by '.', '_', '__' or '-'");
            }
        }
    }

    /** What to ask the registry for: the digest if present, else the tag, else {@code latest}. */
    public String reference() {
        if (digest != null) {
            return digest.toString();
        }
        return tag != null ? tag : "latest";
    }

    /** This reference with the given registry. */
    public ImageReference withRegistry(String newRegistry) {
        return new ImageReference(newRegistry, repository, tag, digest);
    }

    /** The reference text, e.g. {@code 127.0.0.1:5000/app:1.0@sha256:...}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (registry != null) {
            sb.append(registry).append('/');
        }
        sb.append(repository);
        if (tag != null) {
            sb.append(':').append(tag);
        }
        if (digest != null) {
            sb.append('@').append(digest);
        }
        return sb.toString();
    }
}
