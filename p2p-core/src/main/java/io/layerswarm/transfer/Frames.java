package io.layerswarm.transfer;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.MessageLite;
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

    public static void write(OutputStream out, MessageLite message) throws IOException {
        message.writeDelimitedTo(out);
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException if the stream ends before or inside the frame
     * @throws ProtocolException if the frame is oversized or not a valid message
     */
    public static <T> T read(InputStream in, Parser<T> parser, int maxBytes) throws IOException {
        int first = in.read();
        if (first < 0) {
            throw new EOFException("stream ended before a frame");
        }
        int length;
        try {
            length = CodedInputStream.readRawVarint32(first, in);
        } catch (IOException e) {
            throw new ProtocolException("malformed frame length: " + e.getMessage());
        }
        if (length < 0 || length > maxBytes) {
            throw new ProtocolException("frame of " + Integer.toUnsignedString(length) + " bytes exceeds limit "
                    + maxBytes);
        }
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new EOFException("stream ended inside a frame (" + body.length + " of " + length + " bytes)");
        }
        try {
            return parser.parseFrom(body);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ProtocolException("malformed frame: " + e.getMessage());
        }
    }
}
