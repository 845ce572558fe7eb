package io.layerswarm.mirror;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A verified blob that can be streamed whole or by range, held for one response: what the lookup
 * took so the blob stays readable (an open file, a cache pin) is released by {@link #close()}.
 */
public interface BlobContent extends Closeable {

    /** Size in bytes. */
    long size();

    /**
     * The committed file holding the blob, when there is one; lets the server use zero-copy
     * transfer.
     */
    default Optional<Path> file() {
        return Optional.empty();
    }

    /**
     * Whether the blob is still arriving: {@link #open} then returns a stream whose
     * {@code available()} never blocks and says how many bytes are ready, so a server streams them as
     * they come instead of blocking a thread per response; reading fails if the blob turns out wrong.
     */
    default boolean growing() {
        return false;
    }

    /**
     * Opens a stream over {@code [offset, offset + length)}.
     *
     * @throws IOException if the blob cannot be read
     */
    InputStream open(long offset, long length) throws IOException;

    /**
     * Releases what the lookup holds for the response; the server calls it once the response is done,
     * sent or not. Streams already opened may stop working. Idempotent.
     */
    @Override
    default void close() throws IOException {
    }

    /** A blob backed by a committed, verified file. */
    static BlobContent ofFile(Path file, long size) {
        return new BlobContent() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public Optional<Path> file() {
                return Optional.of(file);
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                InputStream in = java.nio.file.Files.newInputStream(file);
                in.skipNBytes(offset);
                return new BoundedInputStream(in, length);
            }
        };
    }

    /** A blob held in memory. */
    static BlobContent ofBytes(byte[] bytes) {
        return new BlobContent() {
            @Override
            public long size() {
                return bytes.length;
            }

            @Override
            public InputStream open(long offset, long length) {
                return new java.io.ByteArrayInputStream(bytes, Math.toIntExact(offset), Math.toIntExact(length));
            }
        };
    }

    /** Limits a stream to a number of bytes without closing early. */
    final class BoundedInputStream extends java.io.FilterInputStream {
        private long remaining;

        /** Reads at most {@code limit} bytes of {@code in}; closing closes {@code in}. */
        public BoundedInputStream(InputStream in, long limit) {
            super(in);
            this.remaining = limit;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        /** Bounded too: Netty's ChunkedStream trusts available() to detect the end of input. */
        @Override
        public int available() throws IOException {
            return remaining <= 0 ? 0 : (int) Math.min(super.available(), remaining);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }
    }
}
