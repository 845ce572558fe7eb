package io.layerswarm.cache.layout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.OciFormatException;
import io.layerswarm.registry.DigestVerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads an OCI image layout directory. Opening is strict: {@code oci-layout} must declare
 * {@code imageLayoutVersion} 1.0.0 and {@code index.json} must be a valid image index, otherwise
 * {@link InvalidLayoutException} names the problem. Blob reads are verified against their digest.
 */
public final class OciLayoutReader {
    /** The annotation naming a reference (tag) in {@code index.json}. */
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    static final String LAYOUT_FILE = "oci-layout";
    static final String INDEX_FILE = "index.json";
    static final String LAYOUT_JSON = "{\"imageLayoutVersion\":\"1.0.0\"}";
    private static final int MAX_LAYOUT_FILE = 4096;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path dir;
    private final ImageIndex index;

    private OciLayoutReader(Path dir, ImageIndex index) {
        this.dir = dir;
        this.index = index;
    }

    /**
     * Opens a layout directory.
     *
     * @throws InvalidLayoutException if {@code oci-layout} or {@code index.json} is missing or malformed
     */
    public static OciLayoutReader open(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        byte[] layout = readSmall(dir.resolve(LAYOUT_FILE), MAX_LAYOUT_FILE);
        JsonNode node;
        try {
            node = JSON.readTree(layout);
        } catch (JsonProcessingException e) {
            throw new InvalidLayoutException(dir.resolve(LAYOUT_FILE) + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        JsonNode version = node == null ? null : node.get("imageLayoutVersion");
        if (node == null || !node.isObject() || version == null || !version.isTextual() || !version.asText().equals("1.0.0")) {
            throw new InvalidLayoutException(dir.resolve(LAYOUT_FILE)
                    + " must be an object with \"imageLayoutVersion\": \"1.0.0\"");
        }
        byte[] indexBytes = readSmall(dir.resolve(INDEX_FILE), ImageManifest.MAX_BYTES);
        try {
            return new OciLayoutReader(dir, ImageIndex.parse(indexBytes));
        } catch (OciFormatException e) {
            throw new InvalidLayoutException(dir.resolve(INDEX_FILE) + " is invalid: " + e.getMessage(), e);
        }
    }

    private static byte[] readSmall(Path p, int max) throws IOException {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new InvalidLayoutException("not an OCI layout: " + p + " is missing or not a regular file");
        }
        long size = Files.size(p);
        if (size > max) {
            throw new InvalidLayoutException(p + " is too large (" + size + " bytes, limit " + max + ")");
        }
        try (InputStream in = Files.newInputStream(p)) {
            return in.readNBytes(max + 1);
        }
    }

    /** The layout directory. */
    public Path dir() {
        return dir;
    }

    /** The parsed {@code index.json}. */
    public ImageIndex index() {
        return index;
    }

    /** Reference names ({@value #REF_NAME} annotations) in index order. */
    public List<String> refs() {
        List<String> out = new ArrayList<>();
        for (Descriptor d : index.manifests()) {
            String ref = d.annotations().get(REF_NAME);
            if (ref != null) {
                out.add(ref);
            }
        }
        return out;
    }

    /** The index entry for a reference name. */
    public Optional<Descriptor> resolve(String ref) {
        for (Descriptor d : index.manifests()) {
            if (ref.equals(d.annotations().get(REF_NAME))) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** Whether the layout holds a blob file for this digest (not verified). */
    public boolean hasBlob(Digest digest) {
        return Files.isRegularFile(blobPath(dir, digest), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Opens a blob. The stream throws {@link io.layerswarm.oci.DigestMismatchException} at its
     * end (or as soon as it exceeds {@code expectedSize}) if the content does not match, so read it
     * to the end before trusting it.
     *
     * @param expectedSize the size from the descriptor, or {@code -1}
     * @throws NoSuchFileException if the blob is missing
     */
    public InputStream openBlob(Digest digest, long expectedSize) throws IOException {
        return openBlob(dir, digest, expectedSize);
    }

    static InputStream openBlob(Path dir, Digest digest, long expectedSize) throws IOException {
        Path p = blobPath(dir, digest);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(p.toString(), null, "blob " + digest + " is not in the layout");
        }
        return new DigestVerifyingInputStream(Files.newInputStream(p), digest, expectedSize, "layout blob");
    }

    /** Reads a small blob (manifest, index, config) completely and verifies it. */
    public byte[] readBlob(Descriptor descriptor) throws IOException {
        return readBlob(dir, descriptor);
    }

    static byte[] readBlob(Path dir, Descriptor descriptor) throws IOException {
        if (descriptor.size() > ImageManifest.MAX_BYTES) {
            throw new IOException("blob " + descriptor.digest() + " is too large to read into memory ("
                    + descriptor.size() + " bytes)");
        }
        try (InputStream in = openBlob(dir, descriptor.digest(), descriptor.size())) {
            return in.readAllBytes();
        }
    }

    /** The image manifest a reference points at, verified and parsed. */
    public ImageManifest manifest(String ref) throws IOException {
        Descriptor d = resolve(ref).orElseThrow(() -> new NoSuchFileException(dir.toString(), null,
                "no reference '" + ref + "' in " + INDEX_FILE));
        try {
            return ImageManifest.parse(readBlob(d));
        } catch (OciFormatException e) {
            throw new InvalidLayoutException("manifest " + d.digest() + " for '" + ref + "' is invalid: "
                    + e.getMessage(), e);
        }
    }

    /** Copies a blob into a content store (verified by the store). */
    public void copyTo(ContentStore store, Descriptor descriptor) throws IOException {
        try (InputStream in = openBlob(descriptor.digest(), descriptor.size())) {
            store.ingest(descriptor.digest(), descriptor.size(), in);
        }
    }

    static Path blobPath(Path dir, Digest d) {
        return dir.resolve("blobs").resolve(d.algorithm().label()).resolve(d.hex());
    }
}
