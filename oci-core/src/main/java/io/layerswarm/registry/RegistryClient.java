package io.layerswarm.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.OciFormatException;
import io.layerswarm.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client for the OCI distribution API ({@code /v2/}) of one registry: manifests, blobs (streaming,
 * ranges, resumable downloads), uploads (monolithic, chunked, cross-repository mount), tags and
 * catalog, with Basic and Bearer-token authentication, bounded concurrency and retries.
 *
 * <p>Everything fetched by digest is verified: manifests before they are returned, blobs by a
 * stream that throws {@link DigestMismatchException} at end of stream. Content that does not match
 * fails with that exception; other failures are {@link RegistryException}s carrying the HTTP status
 * and OCI error codes.
 *
 * <pre>{@code
 * RegistryClient reg = RegistryClient.builder(URI.create("http://127.0.0.1:5000"))
 *         .credentials("user", "secret").maxConcurrentRequests(8).build();
 * ResolvedImage img = reg.resolveImage("app", "1.0", Platform.linuxAmd64());
 * for (Descriptor layer : img.manifest().layers()) {
 *     reg.downloadBlob("app", layer.digest(), layer.size(), dir.resolve(layer.digest().hex()));
 * }
 * }</pre>
 *
 * <p>Thread-safe. Streams returned by {@link #openBlob} hold one of the concurrency slots until
 * they are closed.
 */
public final class RegistryClient {
    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");
    private static final Pattern UPLOAD_RANGE = Pattern.compile("(?:bytes=)?0-(-1|\\d{1,18})");
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final int MAX_LIST_BYTES = 4 * 1024 * 1024;
    private static final int MAX_PAGES = 1000;
    private static final int MAX_RANGE = 256 * 1024 * 1024;
    /** Largest read of a streamed range: what a caller's buffer or file write gets at once. */
    private static final int RANGE_SLICE = 64 * 1024;
    private static final int COPY_BUFFER = 256 * 1024;

    private final URI base;
    private final Builder settings;
    private final RegistryTransport transport;
    private final RetryPolicy retry;
    private final int pageSize;

    private RegistryClient(Builder b) {
        this.base = b.baseUri;
        this.settings = b.copy(true);
        this.retry = b.retryPolicy;
        this.pageSize = b.pageSize;
        HttpClient.Builder hb = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER) // followed by hand, without credentials off-origin
                .connectTimeout(b.connectTimeout);
        if (b.insecureTls) {
            hb.sslContext(trustAllContext());
        }
        HttpClient http = hb.build();
        RegistryAuth auth = new RegistryAuth(b.username, b.password, http, b.userAgent, b.requestTimeout);
        this.transport = new RegistryTransport(http, base, auth, b.maxConcurrentRequests, b.retryPolicy,
                b.requestTimeout, b.readTimeout, b.userAgent);
    }

    /** A builder for a registry at {@code baseUri} ({@code http://host:port} or {@code https://...}). */
    public static Builder builder(URI baseUri) {
        return new Builder(baseUri);
    }

    /** The registry's base URI. */
    public URI baseUri() {
        return base;
    }

    /** Whether this client has credentials (else it reads only what anyone may read). */
    public boolean hasCredentials() {
        return settings.username != null;
    }

    /** A client with the same settings and no credentials: what anyone may read, it may read. */
    public RegistryClient anonymous() {
        return settings.copy(false).build();
    }

    /**
     * What the registry answers someone else's credentials for a manifest or blob: a {@code HEAD}
     * sent with exactly {@code authorization} (or none), never with this client's credentials, sent
     * once, without answering a challenge or following a redirect (a redirect already means access;
     * following it could carry the credentials to another host).
     *
     * @param resource {@code manifests/<tag or digest>} or {@code blobs/<digest>}
     * @param authorization the {@code Authorization} header to send, if any
     */
    public AccessReply checkAccess(String repository, String resource, Optional<String> authorization)
            throws IOException {
        checkRepository(repository);
        if (!resource.matches("(manifests/[\\w][\\w.:-]{0,127}|blobs/[a-z0-9]+:[a-f0-9]{32,128})")) {
            throw new IllegalArgumentException("not a manifest or blob resource: " + resource);
        }
        Map<String, String> headers = new java.util.HashMap<>(Map.of("Accept", MANIFEST_ACCEPT));
        authorization.ifPresent(a -> headers.put("Authorization", a));
        try (Reply r = transport.send(new RegistryTransport.Call("HEAD", uri("/v2/" + repository + "/" + resource),
                headers, null, null, false, true))) {
            return new AccessReply(r.status(), r.headers().allValues("WWW-Authenticate"));
        }
    }

    // ------------------------------------------------------------------ base

    /**
     * Checks the registry speaks the v2 API and the credentials work ({@code GET /v2/}).
     *
     * @throws RegistryException if it answers anything but 200
     */
    public void ping() throws IOException {
        try (Reply r = transport.send(new RegistryTransport.Call("GET", uri("/v2/"), null, null, null, true))) {
            if (r.status() != 200) {
                throw r.failure("registry check");
            }
        }
    }

    // ------------------------------------------------------------------ manifests

    /**
     * Fetches a manifest or index by tag or digest, accepting OCI and Docker types. The content is
     * verified against the requested digest (when fetched by digest) and against the registry's
     * {@code Docker-Content-Digest}, and parsed strictly.
     *
     * @throws RegistryException if absent (status 404, code MANIFEST_UNKNOWN) or unusable
     * @throws DigestMismatchException if the content does not match the requested digest or the
     *         registry's {@code Docker-Content-Digest}
     */
    public ManifestResponse getManifest(String repository, String reference) throws IOException {
        checkRepository(repository);
        Digest byDigest = checkReference(reference);
        String what = "manifest " + repository + ":" + reference;
        try (Reply r = transport.send(new RegistryTransport.Call("GET", uri("/v2/" + repository + "/manifests/" + reference),
                Map.of("Accept", MANIFEST_ACCEPT), null, pullScope(repository), true))) {
            if (r.status() != 200) {
                throw r.failure("fetching " + what);
            }
            byte[] bytes = r.bytes(ImageManifest.MAX_BYTES, what);
            Digest digest = verifyManifestDigest(what, bytes, byDigest, r.header("Docker-Content-Digest").orElse(null));
            String mediaType = manifestMediaType(what, r.header("Content-Type").orElse(null), bytes);
            try {
                if (MediaTypes.INDEXES.contains(mediaType)) {
                    ImageIndex.parse(bytes);
                } else {
                    ImageManifest.parse(bytes);
                }
            } catch (OciFormatException e) {
                throw new RegistryException(what + " is invalid: " + e.getMessage(), e);
            }
            log.debug("registry.manifest repo={} ref={} digest={} mediaType={} bytes={}", repository, reference, digest,
                    mediaType, bytes.length);
            return new ManifestResponse(bytes, mediaType, digest);
        }
    }

    /**
     * Asks whether a manifest exists ({@code HEAD}), returning its descriptor without fetching it.
     * Falls back to a GET when the registry does not send {@code Docker-Content-Digest}.
     */
    public Optional<Descriptor> headManifest(String repository, String reference) throws IOException {
        checkRepository(repository);
        checkReference(reference);
        try (Reply r = transport.send(new RegistryTransport.Call("HEAD", uri("/v2/" + repository + "/manifests/" + reference),
                Map.of("Accept", MANIFEST_ACCEPT), null, pullScope(repository), true))) {
            if (r.status() == 404) {
                return Optional.empty();
            }
            if (r.status() != 200) {
                throw r.failure("checking manifest " + repository + ":" + reference);
            }
            String dcd = r.header("Docker-Content-Digest").orElse(null);
            String ct = r.header("Content-Type").map(RegistryClient::stripParams).orElse(null);
            OptionalLong len = r.headers().firstValueAsLong("Content-Length");
            if (dcd != null && ct != null && MediaTypes.MANIFESTS_AND_INDEXES.contains(ct) && len.isPresent()) {
                try {
                    return Optional.of(Descriptor.of(ct, Digest.parse(dcd), len.getAsLong()));
                } catch (IllegalArgumentException e) {
                    throw new RegistryException("registry sent an invalid Docker-Content-Digest '"
                            + RegistryException.abbreviate(dcd) + "'", e);
                }
            }
        }
        return Optional.of(getManifest(repository, reference).descriptor());
    }

    /**
     * Resolves a tag or digest to the manifest for {@code platform}, following an index (or Docker
     * manifest list) to the matching entry.
     *
     * @throws RegistryException if the index has no entry for the platform (the message lists what it has)
     */
    public ResolvedImage resolveImage(String repository, String reference, Platform platform) throws IOException {
        Objects.requireNonNull(platform, "platform");
        ManifestResponse top = getManifest(repository, reference);
        ManifestResponse index = null;
        ManifestResponse current = top;
        for (int depth = 0; current.isIndex(); depth++) {
            if (depth >= 2) {
                throw new RegistryException("image " + repository + ":" + reference + ": indexes nested too deeply");
            }
            index = current;
            ImageIndex idx = current.index();
            Descriptor entry = idx.select(platform).orElseThrow(() -> new RegistryException("image " + repository + ":"
                    + reference + " has no manifest for platform " + platform + " (available: "
                    + idx.manifests().stream().map(d -> String.valueOf(d.platform())).toList() + ")"));
            current = getManifest(repository, entry.digest().toString());
            if (current.bytes().length != entry.size()) {
                throw new RegistryException("manifest " + entry.digest() + " is " + current.bytes().length
                        + " bytes but the index says " + entry.size());
            }
        }
        ImageManifest manifest = current.manifest();
        log.info("registry.resolve repo={} ref={} platform={} manifest={} layers={} bytes={}", repository, reference,
                platform, current.digest(), manifest.layers().size(), manifest.totalLayerBytes());
        return new ResolvedImage(repository, index, current, manifest);
    }

    /**
     * Uploads a manifest or index under a tag or under its digest.
     *
     * @return the digest of {@code bytes}
     * @throws RegistryException if the registry rejects it (e.g. MANIFEST_BLOB_UNKNOWN)
     * @throws DigestMismatchException if {@code bytes} do not match a digest {@code reference}, or the registry
     *         reports another digest
     */
    public Digest putManifest(String repository, String reference, byte[] bytes, String mediaType) throws IOException {
        checkRepository(repository);
        Digest byDigest = checkReference(reference);
        if (!MediaTypes.MANIFESTS_AND_INDEXES.contains(mediaType)) {
            throw new IllegalArgumentException("unsupported manifest media type '" + mediaType + "'");
        }
        Digest digest = byDigest == null ? Digest.sha256(bytes) : Digest.of(byDigest.algorithm(), bytes);
        if (byDigest != null && !digest.equals(byDigest)) {
            throw DigestMismatchException.of("manifest to push as " + reference, byDigest, digest, digest.toString());
        }
        try (Reply r = transport.send(new RegistryTransport.Call("PUT", uri("/v2/" + repository + "/manifests/" + reference),
                Map.of("Content-Type", mediaType), HttpRequest.BodyPublishers.ofByteArray(bytes), pushScope(repository), true))) {
            if (r.status() != 201) {
                throw r.failure("pushing manifest " + repository + ":" + reference);
            }
            String dcd = r.header("Docker-Content-Digest").orElse(null);
            if (dcd != null && !dcd.equals(digest.toString())) {
                throw DigestMismatchException.of("pushed manifest " + repository + ":" + reference, digest, null, dcd);
            }
        }
        log.info("registry.push.manifest repo={} ref={} digest={} mediaType={} bytes={}", repository, reference, digest,
                mediaType, bytes.length);
        return digest;
    }

    // ------------------------------------------------------------------ blobs: read

    /**
     * The size of a blob if the repository has it ({@code HEAD}), empty if not.
     */
    public OptionalLong blobSize(String repository, Digest digest) throws IOException {
        checkRepository(repository);
        try (Reply r = transport.send(new RegistryTransport.Call("HEAD", blobUri(repository, digest), null, null,
                pullScope(repository), true))) {
            if (r.status() == 404) {
                return OptionalLong.empty();
            }
            if (r.status() != 200) {
                throw r.failure("checking blob " + repository + "@" + digest);
            }
            return r.headers().firstValueAsLong("Content-Length");
        }
    }

    /** Whether the repository has the blob. */
    public boolean blobExists(String repository, Digest digest) throws IOException {
        return blobSize(repository, digest).isPresent();
    }

    /**
     * Opens a blob for streaming. The stream verifies the content: it throws
     * {@link DigestMismatchException} at end of stream if the bytes do not match {@code digest}
     * (or the announced length), so a reader that reaches EOF cleanly has the right content.
     * Close it to free the connection and the concurrency slot.
     */
    public InputStream openBlob(String repository, Digest digest) throws IOException {
        return openBlob(repository, digest, -1);
    }

    /** As {@link #openBlob(String, Digest)}, also checking the size when {@code expectedSize >= 0}. */
    public InputStream openBlob(String repository, Digest digest, long expectedSize) throws IOException {
        checkRepository(repository);
        Reply r = transport.send(new RegistryTransport.Call("GET", blobUri(repository, digest), null, null,
                pullScope(repository), true));
        if (r.status() != 200) {
            throw r.failure("fetching blob " + repository + "@" + digest);
        }
        long size = expectedSize >= 0 ? expectedSize : r.headers().firstValueAsLong("Content-Length").orElse(-1);
        return new DigestVerifyingInputStream(r.body(), digest, size, "blob " + repository + "@" + digest);
    }

    /** Fetches a small blob (e.g. a config) into memory, verified, failing if it exceeds {@code maxBytes}. */
    public byte[] fetchBlob(String repository, Digest digest, int maxBytes) throws IOException {
        try (InputStream in = openBlob(repository, digest)) {
            byte[] data = in.readNBytes(maxBytes + 1);
            if (data.length > maxBytes) {
                throw new RegistryException("blob " + repository + "@" + digest + " is larger than " + maxBytes + " bytes");
            }
            if (in.read() != -1) { // reaches EOF, which runs the digest check
                throw new RegistryException("blob " + repository + "@" + digest + " is larger than " + maxBytes + " bytes");
            }
            return data;
        }
    }

    /**
     * Fetches {@code length} bytes of a blob from {@code offset} with an HTTP Range request. The
     * bytes cannot be checked against the blob digest alone; callers verify pieces by their own hashes.
     *
     * @throws RegistryException if the range lies beyond the blob or the registry answers inconsistently
     */
    public byte[] fetchRange(String repository, Digest digest, long offset, int length) throws IOException {
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream(Math.max(length, 0));
        fetchRange(repository, digest, offset, length, data);
        return data.toByteArray();
    }

    /**
     * Like {@link #fetchRange(String, Digest, long, int)}, but writes the bytes to {@code out} as they
     * arrive, in slices of at most 64 KiB, so a large range is never held whole.
     */
    public void fetchRange(String repository, Digest digest, long offset, int length, java.io.OutputStream out)
            throws IOException {
        checkRepository(repository);
        if (offset < 0 || length <= 0 || length > MAX_RANGE) {
            throw new IllegalArgumentException("invalid range offset=" + offset + " length=" + length
                    + " (length must be 1.." + MAX_RANGE + ")");
        }
        try (Reply r = openRange(repository, digest, offset, offset + length - 1)) {
            InputStream in = r.body();
            if (r.status() == 200) {
                // The registry ignored the Range header: skip to the offset ourselves.
                in.skipNBytes(offset);
            } else {
                checkContentRange(r, offset, offset + length - 1);
            }
            byte[] slice = new byte[Math.min(length, RANGE_SLICE)];
            int copied = 0;
            while (copied < length) {
                int n = in.read(slice, 0, Math.min(slice.length, length - copied));
                if (n < 0) {
                    throw new RegistryException("blob " + repository + "@" + digest + ": range at " + offset
                            + " ended after " + copied + " of " + length + " bytes");
                }
                out.write(slice, 0, n);
                copied += n;
            }
            log.debug("registry.range repo={} digest={} offset={} length={}", repository, digest.shortHex(12), offset, length);
        }
    }

    /**
     * Downloads a blob to {@code target}, resuming: if {@code target} already holds the first part
     * of the blob (from an interrupted download), only the rest is requested with a Range request.
     * A connection lost mid-transfer is resumed from where it stopped, up to the retry policy's
     * attempts. On success the file holds exactly the verified blob; on a digest mismatch it is
     * deleted. After other failures the partial file is left for a later resume.
     *
     * @param expectedSize the blob size if known (from a descriptor), else -1
     * @return the blob size
     */
    public long downloadBlob(String repository, Digest digest, long expectedSize, Path target) throws IOException {
        checkRepository(repository);
        String what = "blob " + repository + "@" + digest;
        MessageDigest md = digest.newMessageDigest();
        long have = 0;
        if (Files.exists(target)) {
            have = hashExisting(target, md);
            if (expectedSize >= 0 && have > expectedSize) {
                Files.delete(target);
                md.reset();
                have = 0;
            }
        }
        long resumedFrom = have;
        int attempt = 1;
        while (true) {
            if (expectedSize >= 0 && have == expectedSize) {
                return finishDownload(what, digest, md, have, target);
            }
            Reply r = have > 0 ? openRange(repository, digest, have, -1)
                    : transport.send(new RegistryTransport.Call("GET", blobUri(repository, digest), null, null,
                            pullScope(repository), true));
            try (r) {
                if (r.status() == 416 && have > 0) {
                    // Nothing after 'have': the file may already be complete.
                    return finishDownload(what, digest, md, have, target);
                }
                boolean append;
                if (r.status() == 206) {
                    checkContentRange(r, have, -1);
                    append = true;
                } else if (r.status() == 200) {
                    append = false; // full content: start over
                    md.reset();
                    have = 0;
                } else {
                    throw r.failure("fetching " + what);
                }
                try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                     InputStream in = r.body()) {
                    byte[] buf = new byte[COPY_BUFFER];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        if (expectedSize >= 0 && have + n > expectedSize) {
                            throw DigestMismatchException.of(what, digest, null, "more than the expected " + expectedSize + " bytes");
                        }
                        out.write(buf, 0, n);
                        md.update(buf, 0, n);
                        have += n;
                    }
                }
                if (expectedSize < 0 || have == expectedSize) {
                    long size = finishDownload(what, digest, md, have, target);
                    log.info("registry.download repo={} digest={} bytes={} resumedFrom={}", repository, digest.shortHex(12),
                            size, resumedFrom);
                    return size;
                }
                throw new IOException("connection ended after " + have + " of " + expectedSize + " bytes");
            } catch (DigestMismatchException e) {
                // Not resumed like a broken connection below: a retry would fetch the same wrong bytes.
                Files.deleteIfExists(target);
                throw e;
            } catch (RegistryException e) {
                throw e;
            } catch (IOException e) {
                if (attempt >= retry.maxAttempts()) {
                    throw new RegistryException(what + ": download interrupted at byte " + have + " after " + attempt
                            + " attempt(s): " + e.getMessage(), e);
                }
                log.warn("registry.download.resume repo={} digest={} at={} attempt={} cause=\"{}\"", repository,
                        digest.shortHex(12), have, attempt, e.toString());
                RegistryTransport.sleep(retry.backoff(attempt));
                attempt++;
                // 'have' counts what reached the file; the next round resumes from there.
                have = Files.size(target);
                md.reset();
                hashExisting(target, md);
            }
        }
    }

    private long finishDownload(String what, Digest digest, MessageDigest md, long have, Path target) throws IOException {
        Digest actual = Digest.fromHash(digest.algorithm(), md.digest());
        if (!actual.equals(digest)) {
            Files.deleteIfExists(target);
            throw DigestMismatchException.of(what, digest, actual, actual + " over " + have + " bytes");
        }
        return have;
    }

    private static long hashExisting(Path file, MessageDigest md) throws IOException {
        long n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[COPY_BUFFER];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
                n += r;
            }
        }
        return n;
    }

    /** GET with Range {@code first-last} ({@code last < 0}: to the end). */
    private Reply openRange(String repository, Digest digest, long first, long last) throws IOException {
        String range = "bytes=" + first + "-" + (last >= 0 ? String.valueOf(last) : "");
        Reply r = transport.send(new RegistryTransport.Call("GET", blobUri(repository, digest), Map.of("Range", range),
                null, pullScope(repository), true));
        if (r.status() != 206 && r.status() != 200 && r.status() != 416) {
            throw r.failure("fetching range " + range + " of blob " + repository + "@" + digest);
        }
        if (r.status() == 416 && last >= 0) {
            throw r.failure("range " + range + " of blob " + repository + "@" + digest + " is not satisfiable");
        }
        return r;
    }

    private static void checkContentRange(Reply r, long first, long last) throws RegistryException {
        String cr = r.header("Content-Range").orElse(null);
        if (cr == null) {
            return; // some registries omit it; the byte count is still checked by the caller
        }
        Matcher m = CONTENT_RANGE.matcher(cr.trim());
        if (!m.matches() || Long.parseLong(m.group(1)) != first
                || (last >= 0 && Long.parseLong(m.group(2)) != last)) {
            r.close();
            throw new RegistryException("registry answered range " + first + "-" + (last >= 0 ? last : "")
                    + " with Content-Range '" + RegistryException.abbreviate(cr) + "'");
        }
    }

    // ------------------------------------------------------------------ blobs: write

    /** Uploads a blob held in memory (POST, then PUT with {@code ?digest=}). */
    public void pushBlob(String repository, Digest digest, byte[] data) throws IOException {
        checkRepository(repository);
        URI location = startUpload(repository, Map.of());
        finishUpload(repository, digest, location, HttpRequest.BodyPublishers.ofByteArray(data), data.length);
    }

    /** Uploads a blob from a file in one request (POST, then PUT with {@code ?digest=}). */
    public void pushBlob(String repository, Digest digest, Path file) throws IOException {
        checkRepository(repository);
        URI location = startUpload(repository, Map.of());
        finishUpload(repository, digest, location, HttpRequest.BodyPublishers.ofFile(file), Files.size(file));
    }

    /**
     * Uploads a blob from a file in chunks: POST, one PATCH per {@code chunkSize} bytes with
     * {@code Content-Range}, then PUT with {@code ?digest=}.
     */
    public void pushBlobChunked(String repository, Digest digest, Path file, int chunkSize) throws IOException {
        checkRepository(repository);
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize must be positive: " + chunkSize);
        }
        URI location = startUpload(repository, Map.of());
        uploadChunks(repository, digest, location, file, chunkSize);
    }

    /**
     * Asks the registry to mount a blob from another repository it holds. Returns {@code true} if
     * mounted (201). If the registry declines (202, e.g. the blob is unknown there or access is
     * missing), the upload session it opened is cancelled and {@code false} is returned.
     */
    public boolean mountBlob(String repository, Digest digest, String fromRepository) throws IOException {
        Optional<URI> session = tryMount(repository, digest, fromRepository);
        if (session.isEmpty()) {
            return true;
        }
        cancelUpload(session.get(), repository);
        return false;
    }

    /**
     * Mounts a blob from {@code fromRepository}, or, when the registry declines the mount, uploads
     * it from {@code file} through the session the registry opened.
     *
     * @return whether it was mounted (no data sent)
     */
    public boolean mountOrPushBlob(String repository, Digest digest, String fromRepository, Path file) throws IOException {
        Optional<URI> session = tryMount(repository, digest, fromRepository);
        if (session.isEmpty()) {
            return true;
        }
        finishUpload(repository, digest, session.get(), HttpRequest.BodyPublishers.ofFile(file), Files.size(file));
        return false;
    }

    private Optional<URI> tryMount(String repository, Digest digest, String fromRepository) throws IOException {
        checkRepository(repository);
        checkRepository(fromRepository);
        URI u = uri("/v2/" + repository + "/blobs/uploads/?mount=" + enc(digest.toString()) + "&from=" + enc(fromRepository));
        try (Reply r = transport.send(new RegistryTransport.Call("POST", u, null, HttpRequest.BodyPublishers.noBody(),
                pushScope(repository) + " repository:" + fromRepository + ":pull", true))) {
            if (r.status() == 201) {
                log.info("registry.push.mount repo={} from={} digest={}", repository, fromRepository, digest.shortHex(12));
                return Optional.empty();
            }
            if (r.status() == 202) {
                log.debug("registry.push.mount.declined repo={} from={} digest={}", repository, fromRepository,
                        digest.shortHex(12));
                return Optional.of(location(r));
            }
            throw r.failure("mounting blob " + digest + " from " + fromRepository + " into " + repository);
        }
    }

    private URI startUpload(String repository, Map<String, String> headers) throws IOException {
        try (Reply r = transport.send(new RegistryTransport.Call("POST", uri("/v2/" + repository + "/blobs/uploads/"), headers,
                HttpRequest.BodyPublishers.noBody(), pushScope(repository), true))) {
            if (r.status() != 202) {
                throw r.failure("starting upload to " + repository);
            }
            return location(r);
        }
    }

    private void finishUpload(String repository, Digest digest, URI location, HttpRequest.BodyPublisher body, long size)
            throws IOException {
        URI put = withQuery(location, "digest=" + enc(digest.toString()));
        // A PUT of the whole blob is repeatable, so it may be retried.
        try (Reply r = transport.send(new RegistryTransport.Call("PUT", put,
                Map.of("Content-Type", "application/octet-stream"), body, pushScope(repository), true))) {
            if (r.status() != 201) {
                RegistryException failure = r.failure("uploading blob " + digest + " to " + repository);
                // A retried PUT whose first attempt succeeded (response lost) finds its session gone.
                if (r.status() != 404 || !blobExists(repository, digest)) {
                    throw failure;
                }
            }
        }
        log.info("registry.push.blob repo={} digest={} bytes={} mode=monolithic", repository, digest.shortHex(12), size);
    }

    private void uploadChunks(String repository, Digest digest, URI location, Path file, int chunkSize) throws IOException {
        long size = Files.size(file);
        long offset = 0;
        int chunks = 0;
        int failures = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (offset < size) {
                int n = (int) Math.min(chunkSize, size - offset);
                ByteBuffer buf = ByteBuffer.allocate(n);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, offset + buf.position()) < 0) {
                        throw new IOException("file " + file + " shrank during upload");
                    }
                }
                long last = offset + n - 1;
                String what = "uploading chunk " + offset + "-" + last + " of blob " + digest + " to " + repository;
                // PATCH appends, so it is never resent blindly: after a failure we ask the registry
                // how much it has (upload status) and continue from there.
                Reply r;
                try {
                    r = transport.send(new RegistryTransport.Call("PATCH", location,
                            Map.of("Content-Type", "application/octet-stream", "Content-Range", offset + "-" + last),
                            HttpRequest.BodyPublishers.ofByteArray(buf.array()), pushScope(repository), false));
                } catch (RegistryException e) {
                    if (e.status() != 0 || ++failures >= retry.maxAttempts()) {
                        throw e;
                    }
                    r = null;
                    log.warn("registry.push.chunk.retry repo={} offset={} cause=\"{}\"", repository, offset, e.getMessage());
                }
                if (r != null) {
                    try (Reply reply = r) {
                        if (reply.status() == 202) {
                            String range = reply.header("Range").orElse(null);
                            if (range != null && uploadedUpTo(range) != last + 1) {
                                throw new RegistryException("registry acknowledged chunk " + offset + "-" + last
                                        + " with Range '" + RegistryException.abbreviate(range) + "'");
                            }
                            location = location(reply);
                            offset += n;
                            chunks++;
                            continue;
                        }
                        boolean transientFailure = reply.status() >= 500 || reply.status() == 429 || reply.status() == 416;
                        if (!transientFailure || ++failures >= retry.maxAttempts()) {
                            throw reply.failure(what);
                        }
                        log.warn("registry.push.chunk.retry repo={} offset={} status={}", repository, offset, reply.status());
                    }
                }
                RegistryTransport.sleep(retry.backoff(failures));
                long next = -1;
                URI statusLocation = null;
                try (Reply st = transport.send(new RegistryTransport.Call("GET", location, null, null, pushScope(repository), true))) {
                    if (st.status() == 204) {
                        // "0-0" means both "nothing" (distribution 2.x) and "one byte": ambiguous, so restart.
                        String range = st.header("Range").orElse("0--1").trim();
                        next = range.matches("(bytes=)?0-0") ? -1 : uploadedUpTo(range);
                        statusLocation = location(st);
                    } else {
                        log.debug("registry.push.chunk.status repo={} status={}", repository, st.status());
                    }
                }
                if (next >= 0 && next <= size) {
                    offset = next; // the registry tells how much it kept: continue from there
                    location = statusLocation;
                } else {
                    // No usable status (distribution 2.x rejects a session URL whose signed state is
                    // stale): start a fresh session, which is always correct.
                    log.warn("registry.push.chunk.restart repo={} digest={} offset={}", repository, digest.shortHex(12), offset);
                    location = startUpload(repository, Map.of());
                    offset = 0;
                }
            }
        }
        URI put = withQuery(location, "digest=" + enc(digest.toString()));
        try (Reply r = transport.send(new RegistryTransport.Call("PUT", put, null, HttpRequest.BodyPublishers.noBody(),
                pushScope(repository), false))) {
            if (r.status() != 201) {
                throw r.failure("completing chunked upload of blob " + digest + " to " + repository);
            }
        }
        log.info("registry.push.blob repo={} digest={} bytes={} mode=chunked chunks={} recovered={}", repository,
                digest.shortHex(12), size, chunks, failures);
    }

    /** Bytes received according to an upload {@code Range: 0-<last>} header ({@code 0--1}: none); -1 if malformed. */
    private static long uploadedUpTo(String range) {
        Matcher m = UPLOAD_RANGE.matcher(range.trim());
        if (!m.matches()) {
            return -1;
        }
        return Long.parseLong(m.group(1)) + 1;
    }

    private void cancelUpload(URI location, String repository) {
        try (Reply r = transport.send(new RegistryTransport.Call("DELETE", location, null, null, pushScope(repository), false))) {
            log.debug("registry.upload.cancel repo={} status={}", repository, r.status());
        } catch (IOException e) {
            log.debug("registry.upload.cancel repo={} failed=\"{}\"", repository, e.toString());
        }
    }

    private URI location(Reply r) throws RegistryException {
        String loc = r.header("Location").orElse(null);
        if (loc == null || loc.isBlank()) {
            throw new RegistryException(r.method() + " " + r.uri() + " returned " + r.status() + " without a Location header");
        }
        try {
            URI u = r.uri().resolve(loc.trim());
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
                throw new IllegalArgumentException("scheme " + u.getScheme());
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new RegistryException("registry sent an unusable Location '" + RegistryException.abbreviate(loc) + "'", e);
        }
    }

    // ------------------------------------------------------------------ listing

    /** All tags of a repository, following pagination. */
    public List<String> listTags(String repository) throws IOException {
        checkRepository(repository);
        return paginate(uri("/v2/" + repository + "/tags/list?n=" + pageSize), "tags", pullScope(repository),
                "listing tags of " + repository);
    }

    /** All repositories ({@code /v2/_catalog}), following pagination. */
    public List<String> catalog() throws IOException {
        return paginate(uri("/v2/_catalog?n=" + pageSize), "repositories", "registry:catalog:*", "listing the catalog");
    }

    private List<String> paginate(URI first, String field, String scope, String what) throws IOException {
        List<String> out = new ArrayList<>();
        URI next = first;
        for (int page = 0; next != null; page++) {
            if (page >= MAX_PAGES) {
                throw new RegistryException(what + ": more than " + MAX_PAGES + " pages");
            }
            byte[] body;
            URI current = next;
            next = null;
            try (Reply r = transport.send(new RegistryTransport.Call("GET", current, Map.of("Accept", "application/json"), null,
                    scope, true))) {
                if (r.status() != 200) {
                    throw r.failure(what);
                }
                String link = r.header("Link").orElse(null);
                if (link != null) {
                    Matcher m = LINK_NEXT.matcher(link);
                    if (m.find()) {
                        try {
                            next = current.resolve(m.group(1));
                        } catch (IllegalArgumentException e) {
                            throw new RegistryException(what + ": unusable pagination link '"
                                    + RegistryException.abbreviate(link) + "'", e);
                        }
                        if (!transport.sameOrigin(next)) {
                            throw new RegistryException(what + ": pagination link leaves the registry: " + next);
                        }
                    }
                }
                body = r.bytes(MAX_LIST_BYTES, what);
            }
            JsonNode root;
            try {
                root = JSON.readTree(body);
            } catch (IOException e) {
                throw new RegistryException(what + ": response is not JSON", e);
            }
            JsonNode list = root == null || !root.isObject() ? null : root.get(field);
            if (list == null || list.isNull()) {
                continue;
            }
            if (!list.isArray()) {
                throw new RegistryException(what + ": '" + field + "' is not an array");
            }
            for (JsonNode n : list) {
                if (!n.isTextual()) {
                    throw new RegistryException(what + ": '" + field + "' holds a non-string");
                }
                out.add(n.textValue());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private Digest verifyManifestDigest(String what, byte[] bytes, Digest byDigest, String dockerContentDigest)
            throws IOException {
        Digest computed;
        if (byDigest != null) {
            computed = Digest.of(byDigest.algorithm(), bytes);
            if (!computed.equals(byDigest)) {
                throw DigestMismatchException.of(what, byDigest, computed, computed.toString());
            }
        } else {
            computed = Digest.sha256(bytes);
        }
        if (dockerContentDigest != null) {
            Digest announced;
            try {
                announced = Digest.parse(dockerContentDigest.trim());
            } catch (IllegalArgumentException e) {
                throw new RegistryException(what + ": invalid Docker-Content-Digest header: " + e.getMessage(), e);
            }
            Digest check = announced.algorithm() == computed.algorithm() ? computed : Digest.of(announced.algorithm(), bytes);
            if (!check.equals(announced)) {
                throw DigestMismatchException.of(what + " (Docker-Content-Digest)", announced, check, check.toString());
            }
        }
        return computed;
    }

    private static String manifestMediaType(String what, String contentType, byte[] bytes) throws RegistryException {
        String ct = contentType == null ? null : stripParams(contentType);
        if (ct != null && MediaTypes.MANIFESTS_AND_INDEXES.contains(ct)) {
            return ct;
        }
        // Some registries answer application/json: fall back to the document's own mediaType.
        try {
            JsonNode root = JSON.readTree(bytes);
            JsonNode mt = root == null ? null : root.get("mediaType");
            if (mt != null && mt.isTextual() && MediaTypes.MANIFESTS_AND_INDEXES.contains(mt.textValue())) {
                return mt.textValue();
            }
        } catch (IOException e) {
            throw new RegistryException(what + " is not JSON (Content-Type '" + contentType + "')", e);
        }
        throw new RegistryException(what + " has unsupported media type '" + contentType
                + "' (supported: " + MANIFEST_ACCEPT + ")");
    }

    private static String stripParams(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi >= 0 ? contentType.substring(0, semi) : contentType).trim();
    }

    private static void checkRepository(String repository) {
        Objects.requireNonNull(repository, "repository");
        new ImageReference(null, repository, null, null); // validates the name grammar
    }

    /** Validates a tag or digest reference; returns the digest if it is one. */
    private static Digest checkReference(String reference) {
        Objects.requireNonNull(reference, "reference");
        if (reference.contains(":")) {
            return Digest.parse(reference);
        }
        if (!TAG.matcher(reference).matches()) {
            throw new IllegalArgumentException("invalid tag '" + RegistryException.abbreviate(reference)
                    + "': must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        }
        return null;
    }

    private static String pullScope(String repository) {
        return "repository:" + repository + ":pull";
    }

    private static String pushScope(String repository) {
        return "repository:" + repository + ":pull,push";
    }

    private URI uri(String pathAndQuery) {
        return URI.create(base + pathAndQuery);
    }

    private URI blobUri(String repository, Digest digest) {
        return uri("/v2/" + repository + "/blobs/" + digest);
    }

    private static URI withQuery(URI u, String param) {
        String s = u.toString();
        return URI.create(s + (u.getRawQuery() == null ? "?" : "&") + param);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static SSLContext trustAllContext() {
        // Test-only: accepts any certificate and skips host-name checks (an X509ExtendedTrustManager
        // owns endpoint identification, and this one does none).
        TrustManager tm = new X509ExtendedTrustManager() {
            @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) { }
            @Override public void checkServerTrusted(X509Certificate[] c, String a, Socket s) { }
            @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) { }
            @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) { }
            @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
            @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
            @Override public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {tm}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot create TLS context", e);
        }
    }

    /** Configures a {@link RegistryClient}. */
    public static final class Builder {
        private final URI baseUri;
        private String username;
        private String password;
        private boolean insecureTls;
        private int maxConcurrentRequests = 8;
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(60);
        private Duration readTimeout = Duration.ofSeconds(60);
        private String userAgent = "layerswarm/0.1";
        private int pageSize = 1000;

        private Builder(URI baseUri) {
            Objects.requireNonNull(baseUri, "baseUri");
            String scheme = baseUri.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme)) {
                throw new IllegalArgumentException("registry URI must be http or https: " + baseUri);
            }
            if (baseUri.getHost() == null || baseUri.getRawQuery() != null || baseUri.getRawFragment() != null
                    || baseUri.getRawUserInfo() != null) {
                throw new IllegalArgumentException("registry URI must be scheme://host[:port] without user info, query "
                        + "or fragment: " + baseUri);
            }
            String path = baseUri.getRawPath() == null ? "" : baseUri.getRawPath();
            while (path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            this.baseUri = URI.create(scheme + "://" + baseUri.getRawAuthority() + path);
        }

        /** Credentials for Basic auth and for token requests. */
        public Builder credentials(String username, String password) {
            this.username = Objects.requireNonNull(username, "username");
            this.password = Objects.requireNonNull(password, "password");
            if (username.contains(":")) {
                throw new IllegalArgumentException("username must not contain ':'");
            }
            return this;
        }

        /** Accept any TLS certificate and host name. Only for tests against self-signed registries. */
        public Builder insecureTls(boolean insecure) {
            this.insecureTls = insecure;
            return this;
        }

        /** How many requests (including open blob streams) may be in flight at once; default 8. */
        public Builder maxConcurrentRequests(int n) {
            if (n < 1 || n > 1024) {
                throw new IllegalArgumentException("maxConcurrentRequests must be in 1..1024, got " + n);
            }
            this.maxConcurrentRequests = n;
            return this;
        }

        /** Retry policy for 5xx, 429 and lost connections; default {@link RetryPolicy#defaults()}. */
        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** TCP connect timeout; default 10 s. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connectTimeout");
            return this;
        }

        /** Time allowed until response headers arrive; default 60 s. */
        public Builder requestTimeout(Duration d) {
            this.requestTimeout = positive(d, "requestTimeout");
            return this;
        }

        /**
         * Longest pause allowed while a response body streams; default 60 s. A stalled body fails
         * with {@link java.net.http.HttpTimeoutException} (downloads then resume from where they were).
         */
        public Builder readTimeout(Duration d) {
            this.readTimeout = positive(d, "readTimeout");
            return this;
        }

        /** The User-Agent header; default {@code layerswarm/0.1}. */
        public Builder userAgent(String ua) {
            Objects.requireNonNull(ua, "userAgent");
            if (ua.isEmpty() || !ua.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("userAgent must be non-empty printable ASCII");
            }
            this.userAgent = ua;
            return this;
        }

        /** Entries requested per page when listing tags or the catalog; default 1000. */
        public Builder pageSize(int n) {
            if (n < 1 || n > 10_000) {
                throw new IllegalArgumentException("pageSize must be in 1..10000, got " + n);
            }
            this.pageSize = n;
            return this;
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d;
        }

        private Builder copy(boolean withCredentials) {
            Builder c = new Builder(baseUri);
            if (withCredentials) {
                c.username = username;
                c.password = password;
            }
            c.insecureTls = insecureTls;
            c.maxConcurrentRequests = maxConcurrentRequests;
            c.retryPolicy = retryPolicy;
            c.connectTimeout = connectTimeout;
            c.requestTimeout = requestTimeout;
            c.readTimeout = readTimeout;
            c.userAgent = userAgent;
            c.pageSize = pageSize;
            return c;
        }

        /** Builds the client. */
        public RegistryClient build() {
            return new RegistryClient(this);
        }
    }
}
