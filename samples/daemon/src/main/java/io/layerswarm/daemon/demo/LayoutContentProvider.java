package io.layerswarm.daemon.demo;

import io.layerswarm.cache.layout.OciLayoutReader;
import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.ContentProvider;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves one OCI image layout directory as repository {@code repository} of a registry: tags are the
 * layout's {@code org.opencontainers.image.ref.name} entries. Every blob is verified against its
 * digest when the provider is created, so only verified content is ever served.
 */
public final class LayoutContentProvider implements ContentProvider {
    private final String repository;
    private final OciLayoutReader layout;
    private final Map<Digest, Long> blobs = new HashMap<>();
    private final AtomicLong blobBytesServed = new AtomicLong();

    private LayoutContentProvider(String repository, OciLayoutReader layout) {
        this.repository = repository;
        this.layout = layout;
    }

    /**
     * Opens {@code dir} and verifies every blob in it.
     *
     * @throws io.layerswarm.cache.layout.InvalidLayoutException if the layout is malformed
     * @throws IOException if a blob does not match its digest
     */
    public static LayoutContentProvider open(String repository, Path dir) throws IOException {
        LayoutContentProvider p = new LayoutContentProvider(Objects.requireNonNull(repository, "repository"),
                OciLayoutReader.open(dir));
        Path sha = dir.resolve("blobs").resolve("sha256");
        try (var files = Files.list(sha)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Digest d = Digest.parse("sha256:" + f.getFileName());
                try (InputStream in = p.layout.openBlob(d, Files.size(f))) {
                    in.transferTo(OutputStream.nullOutputStream()); // throws at the end on a mismatch
                }
                p.blobs.put(d, Files.size(f));
            }
        }
        return p;
    }

    /** The layout served. */
    public OciLayoutReader layout() {
        return layout;
    }

    /** Blob bytes streamed to clients so far (ranges included, headers not). */
    public long blobBytesServed() {
        return blobBytesServed.get();
    }

    @Override
    public Optional<ManifestContent> manifest(String repo, String reference, List<String> accept) throws IOException {
        if (!repository.equals(repo)) {
            return Optional.empty();
        }
        Optional<Descriptor> d = reference.contains(":")
                ? layout.index().manifests().stream().filter(m -> m.digest().toString().equals(reference)).findFirst()
                : layout.resolve(reference);
        if (d.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ManifestContent(layout.readBlob(d.get()), d.get().mediaType(), d.get().digest()));
    }

    @Override
    public Optional<BlobContent> blob(String repo, Digest digest) {
        Long size = blobs.get(digest);
        if (!repository.equals(repo) || size == null) {
            return Optional.empty();
        }
        Path file = layout.dir().resolve("blobs").resolve(digest.algorithm().label()).resolve(digest.hex());
        return Optional.of(new BlobContent() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                // no file(): the server streams through here, so every byte is counted
                return new FilterInputStream(BlobContent.ofFile(file, size).open(offset, length)) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            blobBytesServed.incrementAndGet();
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            blobBytesServed.addAndGet(n);
                        }
                        return n;
                    }
                };
            }
        });
    }
}
