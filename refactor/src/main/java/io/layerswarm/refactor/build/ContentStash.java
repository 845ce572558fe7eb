package io.layerswarm.refactor.build;

import io.layerswarm.refactor.index.ContentSink;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A scratch directory of file contents named by their sha256, filled while layers are scanned and
 * read while refactored layers are written. Each content is stored once; a file only gets its final
 * name after its hash is known (temp file, then atomic rename), so a name always matches its bytes.
 */
public final class ContentStash implements ContentSink, ContentSource {
    private final Path dir;
    private long tempCounter;

    /** A stash in {@code dir} (created if missing). */
    public ContentStash(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    @Override
    public synchronized String accept(InputStream content, long size) throws IOException {
        Path tmp = dir.resolve("tmp-" + (tempCounter++));
        MessageDigest md = io.layerswarm.oci.Digest.Algorithm.SHA256.newMessageDigest();
        long copied = 0;
        try (OutputStream out = Files.newOutputStream(tmp)) {
            byte[] buf = new byte[65536];
            int n;
            while ((n = content.read(buf)) > 0) {
                md.update(buf, 0, n);
                out.write(buf, 0, n);
                copied += n;
            }
        }
        if (copied != size) {
            Files.deleteIfExists(tmp);
            throw new IOException("truncated file content: expected " + size + " bytes, got " + copied);
        }
        String sha = HexFormat.of().formatHex(md.digest());
        Path target = dir.resolve(sha);
        if (Files.exists(target)) {
            Files.delete(tmp);
        } else {
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                Files.deleteIfExists(tmp);
                if (!Files.exists(target)) {
                    throw e;
                }
            }
        }
        return sha;
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new IOException("not a sha256: " + sha256);
        }
        try {
            return Files.newInputStream(dir.resolve(sha256));
        } catch (NoSuchFileException e) {
            throw new IOException("content sha256:" + sha256 + " was not stashed", e);
        }
    }
}
