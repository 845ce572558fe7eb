package io.layerswarm.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Bytes {@code [offset, offset + length)} of a blob fetched through a {@link Reader} one slice at a
 * time, so a reader of a 4 MiB piece holds one slice of it rather than all of it. As it stands every
 * byte of the range must be readable at once; {@link VerifiedStream} waits for bytes to arrive.
 */
class SlicedRangeStream extends InputStream {

    /** Reads bytes of the blob. */
    @FunctionalInterface
    interface Reader {
        ByteBuffer read(long offset, int length) throws IOException;
    }

    private final Reader reader;
    private final int maxSlice;
    private final long end;
    private long position;
    private ByteBuffer buffer = ByteBuffer.allocate(0);

    SlicedRangeStream(Reader reader, long offset, long length, int maxSlice) {
        this.reader = reader;
        this.position = offset;
        this.end = offset + length;
        this.maxSlice = maxSlice;
    }

    /**
     * How many bytes from {@code position} may be read now (at least one), waiting if none may yet;
     * called with nothing buffered and {@code position < end}.
     */
    protected long awaitReadable(long position, long end) throws IOException {
        return end - position;
    }

    /** Bytes read from the blob but not yet handed out. */
    protected final int buffered() {
        return buffer.remaining();
    }

    /** Where the next slice starts. */
    protected final long position() {
        return position;
    }

    /** End of the range (exclusive). */
    protected final long end() {
        return end;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!buffer.hasRemaining()) {
            if (position >= end) {
                return -1;
            }
            int want = (int) Math.min(maxSlice, awaitReadable(position, end));
            buffer = reader.read(position, want);
            if (buffer.remaining() != want) {
                throw new IOException("read " + buffer.remaining() + " of " + want + " bytes at " + position);
            }
            position += want;
        }
        int k = Math.min(len, buffer.remaining());
        buffer.get(b, off, k);
        return k;
    }

    @Override
    public int available() throws IOException {
        return buffered();
    }
}
