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
