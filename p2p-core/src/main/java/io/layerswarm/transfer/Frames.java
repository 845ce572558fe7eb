package io.layerswarm.transfer;

import com.google.protobuf.MessageLite;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import com.google.protobuf.Parser;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Length-prefixed protobuf frames (unsigned varint length, then the message), with a hard size
 * limit checked before anything is allocated.
 */
public final class Frames {
    /** Largest control frame: a piece-hash list for {@code PieceLayout.MAX_PIECES} is 32 MiB, but nobody needs that. */
    public static final int MAX_FRAME = 8 * 1024 * 1024;

    private Frames() {
    }

    /** Writes one frame ({@link LengthPrefixed}: varint length, then the message). */
    public static void write(OutputStream out, MessageLite message) throws IOException {
        LengthPrefixed.write(out, message.toByteArray());
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException if the stream ends before or inside the frame
     * @throws ProtocolException if the frame is oversized or not a valid message
     */
    public static <T> T read(InputStream in, Parser<T> parser, int maxBytes) throws IOException {
        T message = readOrEnd(in, parser, maxBytes);
        if (message == null) {
            throw new EOFException("stream ended before a frame");
        }
        return message;
    }

    /**
     * Like {@link #read}, but a stream that ends cleanly before the frame's first byte gives {@code null}
     * (the normal end of a stream that carries several frames).
     *
     * @throws EOFException if the stream ends inside the frame
     */
    public static <T> T readOrEnd(InputStream in, Parser<T> parser, int maxBytes) throws IOException {
        byte[] body = LengthPrefixed.read(in, maxBytes, ProtocolException::new);
        if (body == null) {
            return null;
        }
        try {
            return parser.parseFrom(body);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ProtocolException("malformed frame: " + e.getMessage());
        }
    }
}
