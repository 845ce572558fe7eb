package io.layerswarm.libp2p.multiformats;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Function;

/**
 * Blocking reads of unsigned-varint length-prefixed frames, the framing libp2p protocols use on
 * streams. The length is checked against a bound before anything is allocated.
 */
public final class LengthPrefixed {
    private LengthPrefixed() {
    }

    /**
     * Reads one frame body.
     *
     * @param maxBytes largest body accepted
     * @param malformed makes the caller's protocol exception for a bad or oversized length
     * @return the body, or {@code null} if the stream ended cleanly before a frame
     * @throws EOFException if the stream ends inside a frame
     */
    public static byte[] read(InputStream in, int maxBytes, Function<String, ? extends IOException> malformed)
            throws IOException {
        byte[] prefix = new byte[Varint.MAX_BYTES];
        int n = 0;
        int b;
        do {
            b = in.read();
            if (b < 0) {
                if (n == 0) {
                    return null;
                }
                throw new EOFException("stream ended inside a frame length");
            }
            if (n == Varint.MAX_BYTES) {
                throw malformed.apply("frame length varint longer than " + Varint.MAX_BYTES + " bytes");
            }
            prefix[n++] = (byte) b;
        } while ((b & 0x80) != 0);
        long len;
        try {
            len = Varint.decode(prefix, 0, n).value();
        } catch (IllegalArgumentException e) {
            throw malformed.apply("bad frame length: " + e.getMessage());
        }
        if (len > maxBytes) {
            throw malformed.apply("frame too large: " + len + " bytes > limit " + maxBytes);
        }
        byte[] body = in.readNBytes((int) len);
        if (body.length < len) {
            throw new EOFException("stream ended inside a frame: got " + body.length + " of " + len + " bytes");
        }
        return body;
    }
}
