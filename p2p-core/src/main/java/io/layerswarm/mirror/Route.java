package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import java.util.regex.Pattern;

/**
 * A parsed request path of the distribution API's read side. Parsing is strict: anything that is not
 * a well-formed {@code /v2/} path yields {@link IllegalArgumentException}, so no untrusted text reaches a
 * provider unvalidated.
 */
sealed interface Route {

    /** {@code /v2/}: the API version check. */
    record Base() implements Route {
    }

    /** {@code /v2/<name>/manifests/<reference>}. */
    record Manifest(String repository, String reference) implements Route {
    }

    /** {@code /v2/<name>/blobs/<digest>}. */
    record Blob(String repository, Digest digest) implements Route {
    }

    /** Repository names from the distribution spec grammar. */
    Pattern NAME = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
    /** Tags from the distribution spec grammar. */
    Pattern TAG = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");
    /** Longest path accepted. */
    int MAX_PATH = 1024;
    /** An upstream registry named by {@code ?ns=}: host[:port], a DNS name, IPv4 or bracketed IPv6. */
    Pattern NAMESPACE = Pattern.compile("(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*"
            + "|\\[[0-9A-Fa-f:.]{2,45}\\])(?::[0-9]{1,5})?");
    /** Longest {@code ns} value accepted. */
    int MAX_NAMESPACE = 261;

    /**
     * The {@code ns} query parameter containerd's mirror configuration adds to every request: the
     * registry the client meant, lowercased.
     *
     * @return the registry host[:port], or empty when the request names none
     * @throws IllegalArgumentException if {@code ns} is malformed, too long or given twice
     */
    static java.util.Optional<String> namespace(String uri) {
        if (uri == null || uri.length() > MAX_PATH) {
            throw new IllegalArgumentException("request path missing or longer than " + MAX_PATH);
        }
        int q = uri.indexOf('?');
        if (q < 0) {
            return java.util.Optional.empty();
        }
        String found = null;
        for (String param : uri.substring(q + 1).split("&")) {
            if (!param.startsWith("ns=")) {
                continue;
            }
            if (found != null) {
                throw new IllegalArgumentException("ns given more than once");
            }
            String v;
            try {
                v = java.net.URLDecoder.decode(param.substring(3), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ns: bad percent-encoding", e);
            }
            if (v.length() > MAX_NAMESPACE || !NAMESPACE.matcher(v).matches()) {
                throw new IllegalArgumentException("ns: expected a registry host[:port]");
            }
            found = v.toLowerCase(java.util.Locale.ROOT);
        }
        return java.util.Optional.ofNullable(found);
    }

    /**
     * Parses a request URI (a query string is ignored).
     *
     * @throws IllegalArgumentException with a client-facing message for anything malformed
     */
    static Route parse(String uri) {
        if (uri == null || uri.length() > MAX_PATH) {
            throw new IllegalArgumentException("request path missing or longer than " + MAX_PATH);
        }
        int q = uri.indexOf('?');
        String path = q >= 0 ? uri.substring(0, q) : uri;
        if (path.equals("/v2/") || path.equals("/v2")) {
            return new Base();
        }
        if (!path.startsWith("/v2/")) {
            throw new IllegalArgumentException("not a distribution API path");
        }
        String rest = path.substring(4);
        int m = rest.lastIndexOf("/manifests/");
        int b = rest.lastIndexOf("/blobs/");
        if (m > 0 && m > b) {
            String name = checkName(rest.substring(0, m));
            String ref = rest.substring(m + "/manifests/".length());
            if (ref.contains(":")) {
                return new Manifest(name, Digest.parse(ref).toString());
            }
            if (!TAG.matcher(ref).matches()) {
                throw new IllegalArgumentException("invalid tag");
            }
            return new Manifest(name, ref);
        }
        if (b > 0) {
            String name = checkName(rest.substring(0, b));
            return new Blob(name, Digest.parse(rest.substring(b + "/blobs/".length())));
        }
        throw new IllegalArgumentException("unknown distribution API path");
    }

    private static String checkName(String name) {
        if (name.length() > 255 || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid repository name");
        }
        return name;
    }
}
