package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * A minimal on-disk store for swarm tests (the product uses layer-cache's ContentStore): temp file,
 * verify on commit, rename. It can also be told to corrupt what it serves, to play a lying peer on the
 * real protocol.
 */
final class DirBlobStore implements BlobStore {
    final Path dir;
    volatile boolean corruptReads;

    DirBlobStore(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    Path path(Digest d) {
        return dir.resolve(d.hex());
    }

    void put(byte[] data) throws IOException {
        Files.write(path(Digest.sha256(data)), data);
    }

    @Override
    public OptionalLong size(Digest digest) {
        try {
            Path p = path(digest);
            return Files.isRegularFile(p) ? OptionalLong.of(Files.size(p)) : OptionalLong.empty();
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public InputStream open(Digest digest, long offset, long length) throws IOException {
        byte[] out = new byte[Math.toIntExact(length)];
        try (FileChannel ch = FileChannel.open(path(digest), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(out);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new IOException("short read of " + digest);
                }
            }
        }
        if (corruptReads && out.length > 0) {
            out[out.length / 2] ^= 0x11;
        }
        return new java.io.ByteArrayInputStream(out);
    }

    @Override
    public Optional<FileChannel> hold(Digest digest) throws IOException {
        try {
            return Optional.of(FileChannel.open(path(digest), StandardOpenOption.READ));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean deleteIfCorrupt(Digest digest) throws IOException {
        Path p = path(digest);
        if (!Files.isRegularFile(p) || Digest.sha256(Files.readAllBytes(p)).equals(digest)) {
            return false;
        }
        return Files.deleteIfExists(p);
    }

    @Override
    public WritableBlob create(Digest digest, long size) throws IOException {
        Path tmp = Files.createTempFile(dir, "ingest-", ".tmp");
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new WritableBlob() {
            @Override
            public ByteBuffer read(long offset, int length) throws IOException {
                ByteBuffer b = ByteBuffer.allocate(length);
                while (b.hasRemaining()) {
                    if (ch.read(b, offset + b.position()) < 0) {
                        throw new IOException("short read");
                    }
                }
                return b.flip();
            }

            @Override
            public void write(long offset, ByteBuffer data) throws IOException {
                long pos = offset;
                while (data.hasRemaining()) {
                    pos += ch.write(data, pos);
                }
            }

            @Override
            public void commit() throws IOException {
                MessageDigest md = digest.newMessageDigest();
                ByteBuffer buf = ByteBuffer.allocate(65536);
                for (long pos = 0; pos < ch.size(); ) {
                    buf.clear();
                    int n = ch.read(buf, pos);
                    buf.flip();
                    md.update(buf);
                    pos += n;
                }
                if (ch.size() != size || !digest.matches(md.digest())) {
                    abort();
                    throw new DigestMismatchException(digest, null, "assembled blob does not match " + digest);
                }
                ch.close();
                Files.move(tmp, path(digest), StandardCopyOption.ATOMIC_MOVE);
            }

            @Override
            public void abort() {
                try {
                    ch.close();
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        };
    }

    @Override
    public List<Digest> list() throws IOException {
        List<Digest> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.length() == 64)
                    .forEach(n -> out.add(Digest.parse("sha256:" + n)));
        }
        return out;
    }
}
