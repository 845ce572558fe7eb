package io.layerswarm.libp2p.multiformats;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.Function;
import io.netty.buffer.ByteBuf;

/**
 * Unsigned-varint length-prefixed frames, the one framing of every stream protocol here (kad,
 * identify, the layer exchange, swarm announcements, the manifest exchange): blocking reads and
 * writes on streams, and the same on Netty buffers for pipeline codecs. A length is checked against
 * its bound before anything is allocated.
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

    /** The varint length of {@code body} followed by {@code body}. */
    public static byte[] frame(byte[] body) {
        byte[] out = new byte[Varint.encodedLength(body.length) + body.length];
        int n = Varint.write(body.length, out, 0);
        System.arraycopy(body, 0, out, n, body.length);
        return out;
    }

    /** Writes one frame (not flushed: a response header and its data may leave together). */
    public static void write(OutputStream out, byte[] body) throws IOException {
        out.write(frame(body));
    }

    /** Appends one frame to a Netty buffer (for pipeline encoders). */
    public static void write(byte[] body, ByteBuf out) {
        Varint.write(body.length, out);
        out.writeBytes(body);
    }

    /**
     * Takes one frame body off a Netty buffer if it is complete (for pipeline decoders).
     *
     * @param maxBytes largest body accepted
     * @param malformed makes the caller's protocol exception for a bad or oversized length
     * @return the body, or {@code null} (reader index unchanged) while the frame is still incomplete
     */
    public static <E extends Exception> byte[] tryRead(ByteBuf in, int maxBytes, Function<String, E> malformed)
            throws E {
        int start = in.readerIndex();
        long len;
        try {
            len = Varint.tryRead(in);
        } catch (IllegalArgumentException e) {
            throw malformed.apply("bad frame length: " + e.getMessage());
        }
        if (len < 0) {
            return null;
        }
        if (len > maxBytes) {
            throw malformed.apply("frame too large: " + len + " bytes > limit " + maxBytes);
        }
        if (in.readableBytes() < len) {
            in.readerIndex(start);
            return null;
        }
        byte[] body = new byte[(int) len];
        in.readBytes(body);
        return body;
    }
}
