package io.layerswarm.refactor.build;

import io.layerswarm.oci.Digest;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes deterministic gzip tar layers: entries sorted by path (hard links last, so their targets
 * precede them), the entries' own mtimes, empty user/group names, PAX headers for long names and
 * big ids, and a gzip header without timestamp. The same entries and contents always give the same
 * digest, so identical shared layers built on different runs or machines deduplicate in the registry.
 */
public final class LayerWriter {
    private LayerWriter() {
    }

    /**
     * Writes a layer holding {@code entries} into {@code dir} as {@code <digest hex>}.
     *
     * @param entries entries to write (any order; whiteouts are written as {@code .wh.} files)
     * @param contents where regular file contents come from
     * @param dir output directory
     * @throws IOException on I/O failure or when a content does not have the expected size
     */
    public static BuiltLayer write(List<FileEntry> entries, ContentSource contents, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<FileEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing((FileEntry e) -> e.type() == FileType.HARDLINK)
                .thenComparing(FileEntry::path));
        Path tmp = Files.createTempFile(dir, "layer-", ".tmp");
        MessageDigest blobHash = Digest.Algorithm.SHA256.newMessageDigest();
        MessageDigest tarHash = Digest.Algorithm.SHA256.newMessageDigest();
        try {
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 65536);
                 DigestOutputStream blob = new DigestOutputStream(file, blobHash);
                 GZIPOutputStream gz = new GZIPOutputStream(blob, 65536);
                 DigestOutputStream tarOut = new DigestOutputStream(gz, tarHash);
                 TarArchiveOutputStream tar = new TarArchiveOutputStream(tarOut, "UTF-8")) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setAddPaxHeadersForNonAsciiNames(true);
                for (FileEntry e : sorted) {
                    writeEntry(tar, e, contents);
                }
                tar.finish();
            }
            Digest digest = Digest.fromHash(Digest.Algorithm.SHA256, blobHash.digest());
            Path target = dir.resolve(digest.hex());
            long size = Files.size(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new BuiltLayer(digest, Digest.fromHash(Digest.Algorithm.SHA256, tarHash.digest()), size, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeEntry(TarArchiveOutputStream tar, FileEntry e, ContentSource contents) throws IOException {
        TarArchiveEntry te = switch (e.type()) {
            case DIRECTORY -> new TarArchiveEntry(e.path() + "/", TarConstants.LF_DIR);
            case REGULAR -> new TarArchiveEntry(e.path(), TarConstants.LF_NORMAL);
            case SYMLINK -> new TarArchiveEntry(e.path(), TarConstants.LF_SYMLINK);
            case HARDLINK -> new TarArchiveEntry(e.path(), TarConstants.LF_LINK);
            case CHAR_DEVICE -> new TarArchiveEntry(e.path(), TarConstants.LF_CHR);
            case BLOCK_DEVICE -> new TarArchiveEntry(e.path(), TarConstants.LF_BLK);
            case FIFO -> new TarArchiveEntry(e.path(), TarConstants.LF_FIFO);
            case WHITEOUT -> new TarArchiveEntry(whiteoutName(e.path(), ".wh."), TarConstants.LF_NORMAL);
            case OPAQUE -> new TarArchiveEntry(e.path().isEmpty() ? ".wh..wh..opq" : e.path() + "/.wh..wh..opq",
                    TarConstants.LF_NORMAL);
        };
        boolean marker = e.type() == FileType.WHITEOUT || e.type() == FileType.OPAQUE;
        te.setMode(marker ? 0644 : e.mode() & 07777);
        te.setUserId(marker ? 0 : e.uid());
        te.setGroupId(marker ? 0 : e.gid());
        te.setUserName("");
        te.setGroupName("");
        te.setModTime(e.mtime() * 1000);
        if (!marker) {
            for (Map.Entry<String, String> x : e.xattrs().entrySet()) {
                te.addPaxHeader("SCHILY.xattr." + x.getKey(), x.getValue());
            }
        }
        if (e.type() == FileType.SYMLINK || e.type() == FileType.HARDLINK) {
            te.setLinkName(e.linkTarget());
        }
        if (e.type() == FileType.CHAR_DEVICE || e.type() == FileType.BLOCK_DEVICE) {
            te.setDevMajor(e.devMajor());
            te.setDevMinor(e.devMinor());
        }
        if (e.type() == FileType.REGULAR) {
            te.setSize(e.size());
        }
        tar.putArchiveEntry(te);
        if (e.type() == FileType.REGULAR) {
            long copied;
            try (InputStream in = contents.open(e.sha256())) {
                copied = in.transferTo(tar);
            }
            if (copied != e.size()) {
                throw new IOException("content sha256:" + e.sha256() + " has " + copied + " bytes, expected " + e.size());
            }
        }
        tar.closeArchiveEntry();
    }

    private static String whiteoutName(String path, String prefix) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? prefix + path : path.substring(0, slash + 1) + prefix + path.substring(slash + 1);
    }
}
