package io.layerswarm.libp2p.kad;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Unsigned-varint length-prefixed framing of kad messages on a stream, as the kad-dht spec requires.
 * The varint is private to kad until the shared multiformats varint lands.
 */
public final class KadFraming {

    private KadFraming() {
    }

    /** Writes one length-prefixed message and flushes. */
    public static void write(OutputStream out, KadMessage message) throws IOException {
        byte[] body = KadMessageCodec.encode(message);
        out.write(frame(body));
        out.flush();
    }

    /** The varint length prefix followed by {@code body}. */
    public static byte[] frame(byte[] body) {
        byte[] prefix = new byte[10];
        int n = 0;
        long v = body.length;
        while ((v & ~0x7FL) != 0) {
            prefix[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        prefix[n++] = (byte) v;
        byte[] out = new byte[n + body.length];
        System.arraycopy(prefix, 0, out, 0, n);
        System.arraycopy(body, 0, out, n, body.length);
        return out;
    }

    /**
     * Reads one length-prefixed message.
     *
     * @return the message, or {@code null} on a clean end of stream before any byte
     * @throws KadProtocolException on an oversized length, bad varint or malformed body
     * @throws EOFException if the stream ends inside a frame
     */
    public static KadMessage read(InputStream in) throws IOException {
        long len = 0;
        int shift = 0;
        int b;
        int count = 0;
        do {
            b = in.read();
            if (b < 0) {
                if (count == 0) {
                    return null;
                }
                throw new EOFException("stream ended inside kad frame length");
            }
            if (count == 9 || (count > 0 && shift >= 63)) {
                throw new KadProtocolException("kad frame length varint too long");
            }
            len |= (long) (b & 0x7F) << shift;
            shift += 7;
            count++;
            if (len > KadMessageCodec.MAX_MESSAGE_SIZE) {
                throw new KadProtocolException("kad frame too large: length prefix exceeds "
                        + KadMessageCodec.MAX_MESSAGE_SIZE);
            }
        } while ((b & 0x80) != 0);
        if (count > 1 && b == 0) {
            throw new KadProtocolException("kad frame length varint not minimally encoded");
        }
        byte[] body = in.readNBytes((int) len);
        if (body.length < len) {
            throw new EOFException("stream ended inside kad frame: got " + body.length + " of " + len + " bytes");
        }
        return KadMessageCodec.decode(body);
    }
}
