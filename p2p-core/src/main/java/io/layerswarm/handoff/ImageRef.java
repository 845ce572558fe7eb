package io.layerswarm.handoff;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An image by content: the target of a handoff pulls exactly this manifest (or index), never a tag
 * that may have moved.
 *
 * @param namespace registry host[:port], as the node's upstream namespaces name it
 * @param repository repository path
 * @param digest {@code sha256:<64 hex>}
 */
public record ImageRef(String namespace, String repository, String digest) {
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9.-]+(:\\d{1,5})?");
    private static final Pattern REPOSITORY = Pattern.compile("[a-z0-9]+([._/-][a-z0-9]+)*");

    /** Validates: these strings end up on a {@code ctr} command line and in registry paths. */
    public ImageRef {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(digest, "digest");
        if (!NAMESPACE.matcher(namespace).matches() || !REPOSITORY.matcher(repository).matches()
                || !DIGEST.matcher(digest).matches()) {
            throw new IllegalArgumentException("not an image by digest: '" + namespace + "/" + repository + "@"
                    + digest + "'");
        }
    }

    /**
     * Splits a containerd image name {@code host[:port]/repo[:tag][@digest]} and pins it to {@code digest}.
     *
     * @throws IllegalArgumentException if the name has no registry host or does not parse
     */
    public static ImageRef of(String imageName, String digest) {
        int slash = imageName.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("image name without a registry host: '" + imageName + "'");
        }
        String repo = imageName.substring(slash + 1);
        int at = repo.indexOf('@');
        if (at >= 0) {
            repo = repo.substring(0, at);
        }
        int colon = repo.lastIndexOf(':');
        if (colon >= 0) {
            repo = repo.substring(0, colon);
        }
        return new ImageRef(imageName.substring(0, slash), repo, digest);
    }

    /** {@code namespace/repository@digest}, the reference containerd pulls. */
    public String reference() {
        return namespace + "/" + repository + "@" + digest;
    }
}
