package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.multiformats.Varint;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Unsigned-varint length-prefixed framing of kad messages on a stream, as the kad-dht spec requires.
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
        byte[] prefix = Varint.encode(body.length);
        byte[] out = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
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
        byte[] prefix = new byte[Varint.MAX_BYTES];
        int n = 0;
        int b;
        do {
            b = in.read();
            if (b < 0) {
                if (n == 0) {
                    return null;
                }
                throw new EOFException("stream ended inside kad frame length");
            }
            if (n == Varint.MAX_BYTES) {
                throw new KadProtocolException("kad frame length varint too long");
            }
            prefix[n++] = (byte) b;
        } while ((b & 0x80) != 0);
        long len;
        try {
            len = Varint.decode(prefix, 0, n).value();
        } catch (IllegalArgumentException e) {
            throw new KadProtocolException("bad kad frame length: " + e.getMessage(), e);
        }
        if (len > KadMessageCodec.MAX_MESSAGE_SIZE) {
            throw new KadProtocolException("kad frame too large: " + len + " > " + KadMessageCodec.MAX_MESSAGE_SIZE);
        }
        byte[] body = in.readNBytes((int) len);
        if (body.length < len) {
            throw new EOFException("stream ended inside kad frame: got " + body.length + " of " + len + " bytes");
        }
        return KadMessageCodec.decode(body);
    }
}
