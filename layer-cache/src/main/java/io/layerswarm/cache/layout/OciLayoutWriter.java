package io.layerswarm.cache.layout;

import static io.layerswarm.cache.layout.OciLayoutReader.REF_NAME;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.OciFormatException;
import io.layerswarm.registry.DigestVerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Writes an OCI image layout directory. Blobs come only from verified sources: committed blobs of
 * a {@link ContentStore} (hard-linked when on the same file system, else copied and re-verified) or
 * byte arrays checked against their digest. A reference is only added once the manifest and every
 * blob it names are present, and {@code index.json} is replaced atomically by {@link #commit()}, so
 * readers never see an index pointing at missing blobs.
 *
 * <pre>{@code
 * OciLayoutWriter w = OciLayoutWriter.create(dir);
 * w.addBlob(store, configDigest);
 * for (Descriptor l : manifest.layers()) w.addBlob(store, l.digest());
 * w.tag(manifest, "v1");
 * w.commit();
 * }</pre>
 *
 * Not thread-safe.
 */
public final class OciLayoutWriter {
    /** The OCI grammar for {@code org.opencontainers.image.ref.name}. */
    private static final Pattern REF = Pattern.compile(
            "[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*");

    private final Path dir;
    private final List<Descriptor> entries;
    private final boolean hardLinks;

    private OciLayoutWriter(Path dir, List<Descriptor> entries, boolean hardLinks) {
        this.dir = dir;
        this.entries = entries;
        this.hardLinks = hardLinks;
    }

    /**
     * Creates a layout at {@code dir}, or opens an existing one (strictly) to add to it. Store blobs
     * are hard-linked when possible.
     *
     * @throws InvalidLayoutException if {@code dir} holds a malformed layout
     */
    public static OciLayoutWriter create(Path dir) throws IOException {
        return create(dir, true);
    }

    /**
     * Like {@link #create(Path)}; with {@code hardLinks == false} store blobs are always copied (and
     * re-verified), e.g. for a layout that will be modified or shipped elsewhere.
     */
    public static OciLayoutWriter create(Path dir, boolean hardLinks) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Files.createDirectories(dir.resolve("blobs"));
        if (Files.exists(dir.resolve(OciLayoutReader.INDEX_FILE), LinkOption.NOFOLLOW_LINKS)) {
            OciLayoutReader existing = OciLayoutReader.open(dir);
            return new OciLayoutWriter(dir, new ArrayList<>(existing.index().manifests()), hardLinks);
        }
        writeAtomically(dir, OciLayoutReader.LAYOUT_FILE, OciLayoutReader.LAYOUT_JSON.getBytes(StandardCharsets.UTF_8));
        return new OciLayoutWriter(dir, new ArrayList<>(), hardLinks);
    }

    /** The layout directory. */
    public Path dir() {
        return dir;
    }

    /**
     * Adds a committed (hence verified) blob of {@code store}: hard-linked if possible, else copied
     * with its digest checked again. A blob already in the layout is kept if it verifies.
     *
     * @throws NoSuchFileException if the store does not hold the blob: unverified content is refused
     */
    public void addBlob(ContentStore store, Digest digest) throws IOException {
        Path source = store.blobPath(digest);
        Path target = OciLayoutReader.blobPath(dir, digest);
        Files.createDirectories(target.getParent());
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isSameFile(source, target) || verifies(target, digest)) {
                return;
            }
            Files.delete(target); // a corrupt leftover: replace it
        }
        if (hardLinks) {
            try {
                Files.createLink(target, source);
                return;
            } catch (UnsupportedOperationException | IOException e) {
                // different file system or no hard links: fall back to a verified copy
            }
        }
        long size = store.size(digest).orElse(-1);
        try (InputStream in = new DigestVerifyingInputStream(store.open(digest), digest, size, "store blob")) {
            writeBlob(target, in);
        }
    }

    /**
     * Adds a blob from memory after checking it matches {@code digest}.
     *
     * @throws DigestMismatchException if it does not
     */
    public void addBlob(Digest digest, byte[] content) throws IOException {
        Digest actual = Digest.of(digest.algorithm(), content);
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(digest, actual, "refusing blob: content hashes to " + actual
                    + ", not " + digest);
        }
        Path target = OciLayoutReader.blobPath(dir, digest);
        Files.createDirectories(target.getParent());
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && verifies(target, digest)) {
            return;
        }
        writeBlob(target, new java.io.ByteArrayInputStream(content));
    }

    /**
     * Writes {@code manifest} as a blob and names it {@code ref} (replacing an earlier entry with that
     * name). Its config and layers must already be in the layout.
     *
     * @return the index entry
     */
    public Descriptor tag(ImageManifest manifest, String ref) throws IOException {
        byte[] json = manifest.toJson();
        Descriptor d = Descriptor.of(manifest.mediaType(), Digest.sha256(json), json.length);
        addBlob(d.digest(), json);
        return tag(d, ref);
    }

    /**
     * Names a manifest or index already in the layout {@code ref}, after verifying it and checking
     * that every blob it references is present.
     *
     * @return the index entry
     * @throws IOException if the manifest or a referenced blob is missing or does not verify
     */
    public Descriptor tag(Descriptor manifest, String ref) throws IOException {
        if (ref == null || !REF.matcher(ref).matches()) {
            throw new IllegalArgumentException("invalid reference name '" + ref
                    + "' (OCI ref.name grammar: alphanumerics separated by - . _ : @ + / or --)");
        }
        if (!MediaTypes.MANIFESTS_AND_INDEXES.contains(manifest.mediaType())) {
            throw new IllegalArgumentException("can only tag manifests and indexes, not " + manifest.mediaType());
        }
        byte[] json = OciLayoutReader.readBlob(dir, manifest);
        List<Descriptor> referenced = new ArrayList<>();
        try {
            if (MediaTypes.IMAGE_MANIFESTS.contains(manifest.mediaType())) {
                ImageManifest m = ImageManifest.parse(json);
                referenced.add(m.config());
                referenced.addAll(m.layers());
            } else {
                referenced.addAll(ImageIndex.parse(json).manifests());
            }
        } catch (OciFormatException e) {
            throw new InvalidLayoutException("refusing to tag " + manifest.digest() + ": " + e.getMessage(), e);
        }
        for (Descriptor r : referenced) {
            Path p = OciLayoutReader.blobPath(dir, r.digest());
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) != r.size()) {
                throw new NoSuchFileException(p.toString(), null, "refusing to tag " + manifest.digest()
                        + ": referenced blob " + r.digest() + " (" + r.size() + " bytes) is not in the layout");
            }
        }
        Descriptor entry = new Descriptor(manifest.mediaType(), manifest.digest(), manifest.size(), List.of(),
                manifest.annotations(), manifest.platform()).withAnnotation(REF_NAME, ref);
        entries.removeIf(e -> ref.equals(e.annotations().get(REF_NAME)));
        entries.add(entry);
        return entry;
    }

    /** Atomically writes {@code index.json} with every entry added so far. */
    public void commit() throws IOException {
        writeAtomically(dir, OciLayoutReader.INDEX_FILE, ImageIndex.oci(entries).toJson());
    }

    /** The entries {@link #commit()} will write. */
    public List<Descriptor> entries() {
        return List.copyOf(entries);
    }

    private static boolean verifies(Path file, Digest digest) throws IOException {
        try (InputStream in = new DigestVerifyingInputStream(Files.newInputStream(file), digest, -1, "layout blob")) {
            in.transferTo(OutputStream.nullOutputStream());
            return true;
        } catch (DigestMismatchException e) {
            return false;
        }
    }

    /** Copies {@code in} (which verifies itself at EOF) to a temp file, fsyncs and renames it into place. */
    private static void writeBlob(Path target, InputStream in) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                in.transferTo(out);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeAtomically(Path dir, String name, byte[] content) throws IOException {
        Path tmp = dir.resolve("." + name + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
