package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.multiformats.LengthPrefixed;
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
        LengthPrefixed.write(out, KadMessageCodec.encode(message));
        out.flush();
    }

    /** The varint length prefix followed by {@code body}. */
    public static byte[] frame(byte[] body) {
        return LengthPrefixed.frame(body);
    }

    /**
     * Reads one length-prefixed message.
     *
     * @return the message, or {@code null} on a clean end of stream before any byte
     * @throws KadProtocolException on an oversized length, bad varint or malformed body
     * @throws EOFException if the stream ends inside a frame
     */
    public static KadMessage read(InputStream in) throws IOException {
        byte[] body = LengthPrefixed.read(in, KadMessageCodec.MAX_MESSAGE_SIZE, m -> new KadProtocolException("kad: " + m));
        if (body == null) {
            return null;
        }
        return KadMessageCodec.decode(body);
    }
}
