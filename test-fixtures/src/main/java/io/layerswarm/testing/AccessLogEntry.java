package io.layerswarm.testing;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of the registry's access log (Apache combined format, which docker-registry 2.8 writes to
 * stdout).
 *
 * @param remote client address
 * @param user authenticated user, or {@code -}
 * @param method HTTP method
 * @param path request path including query
 * @param status response status
 * @param bytesSent response body bytes written by the registry
 * @param userAgent the client's User-Agent
 */
public record AccessLogEntry(String remote, String user, String method, String path, int status,
                             long bytesSent, String userAgent) {

    private static final Pattern LINE = Pattern.compile(
            "^(\\S+) \\S+ (\\S+) \\[[^\\]]+\\] \"(\\S+) (\\S+) [^\"]*\" (\\d{3}) (\\d{1,18}|-) \"[^\"]*\" \"([^\"]*)\"\\s*$");
    private static final Pattern BLOB_PATH = Pattern.compile("^/v2/.+/blobs/((sha256|sha512):[0-9a-f]+)(\\?.*)?$");

    /** Parses one log line; empty if the line is not an access-log line (e.g. an application log). */
    public static Optional<AccessLogEntry> parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        long bytes = "-".equals(m.group(6)) ? 0 : Long.parseLong(m.group(6));
        return Optional.of(new AccessLogEntry(m.group(1), m.group(2), m.group(3), m.group(4),
                Integer.parseInt(m.group(5)), bytes, m.group(7)));
    }

    /** The blob digest this request addressed, if it is a {@code /v2/<name>/blobs/<digest>} request. */
    public Optional<String> blobDigest() {
        Matcher m = BLOB_PATH.matcher(path);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
