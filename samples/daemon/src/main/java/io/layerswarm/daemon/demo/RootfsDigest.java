package io.layerswarm.daemon.demo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A digest of a whole directory tree: for every path (sorted) its type, permissions, link target and
 * content hash. Two trees with equal digests hold the same files with the same content.
 *
 * @param sha256 hex digest of the listing
 * @param entries number of paths below the root
 */
public record RootfsDigest(String sha256, int entries) {

    /** Computes the digest of the tree under {@code root} (symlinks are recorded, not followed). */
    public static RootfsDigest of(Path root) throws IOException {
        MessageDigest listing = newSha256();
        List<Path> paths;
        try (Stream<Path> s = Files.walk(root)) {
            paths = s.filter(p -> !p.equals(root)).sorted().toList();
        }
        for (Path p : paths) {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            String type = a.isSymbolicLink() ? "l" : a.isDirectory() ? "d" : a.isRegularFile() ? "f" : "o";
            StringBuilder line = new StringBuilder().append(root.relativize(p)).append(' ').append(type).append(' ')
                    .append(PosixFilePermissions.toString(a.permissions()));
            if (a.isSymbolicLink()) {
                line.append(" -> ").append(Files.readSymbolicLink(p));
            } else if (a.isRegularFile()) {
                MessageDigest content = newSha256();
                try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        content.update(buf, 0, n);
                    }
                }
                line.append(' ').append(a.size()).append(' ').append(HexFormat.of().formatHex(content.digest()));
            }
            listing.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        }
        return new RootfsDigest(HexFormat.of().formatHex(listing.digest()), paths.size());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
