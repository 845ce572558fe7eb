package io.layerswarm.testing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real image corpus (OCI image layouts built from Debian packages by
 * {@code scripts/corpus/build-corpus.sh}) for tests and benchmarks of other modules.
 *
 * <pre>{@code
 * Corpus corpus = Corpus.small();                 // builds once, then reuses the cached build
 * for (Corpus.Image img : corpus.images()) { img.layoutDir(); img.manifestDigest(); img.layers(); }
 * corpus.pushTo("http://127.0.0.1:" + port);      // skopeo copy to a loopback registry
 * }</pre>
 *
 * <p>Builds are cached under {@code $LAYERSWARM_CORPUS_CACHE} (default
 * {@code ~/.cache/layerswarm/corpus}) in {@code <set>-<hash>}, the hash covering every file of
 * {@code scripts/corpus}, so editing the script invalidates the cache. Concurrent JVMs serialise on a
 * lock file; a build is moved into place only once complete.
 */
public final class Corpus {

    private static final Logger LOG = LoggerFactory.getLogger(Corpus.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    /** corpus.json is a few KB; anything far larger is not ours. */
    private static final long MAX_CORPUS_JSON = 8L << 20;
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration PUSH_TIMEOUT = Duration.ofMinutes(10);
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern LOOPBACK_URL =
            Pattern.compile("http://(127\\.0\\.0\\.1|localhost|\\[::1\\]):(\\d{1,5})/?");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    /** Serialises builds inside one JVM (file locks only exclude other processes). */
    private static final Object BUILD_LOCK = new Object();

    /** Tools the build script needs (pushing additionally needs skopeo). */
    static final List<String> BUILD_TOOLS = List.of("apt-get", "apt-cache", "dpkg-deb", "tar", "umoci", "jq");

    /** One layer of an image. Sizes are of the compressed blob. */
    public record Layer(String digest, long size, String diffId, String mediaType, String createdBy,
                        List<String> packages) {
        public Layer {
            packages = List.copyOf(packages);
        }
    }

    /** One image: an OCI image layout directory whose reference {@code tag} names the image. */
    public record Image(String name, String tag, Path layoutDir, String manifestDigest, long manifestSize,
                        String configDigest, long totalSize, List<Layer> layers) {
        public Image {
            layers = List.copyOf(layers);
        }

        /** {@code name:tag}. */
        public String ref() {
            return name + ":" + tag;
        }

        /** Reference for skopeo/containers-image: {@code oci:<layoutDir>:<tag>}. */
        public String ociReference() {
            return "oci:" + layoutDir + ":" + tag;
        }

        /** Path of a blob of this image's layout. */
        public Path blob(String digest) {
            if (!DIGEST.matcher(digest).matches()) {
                throw new IllegalArgumentException("not a sha256 digest: " + digest);
            }
            return layoutDir.resolve("blobs/sha256").resolve(digest.substring(7));
        }
    }

    private final String set;
    private final Path dir;
    private final long sourceDateEpoch;
    private final List<Image> images;

    private Corpus(String set, Path dir, long sourceDateEpoch, List<Image> images) {
        this.set = set;
        this.dir = dir;
        this.sourceDateEpoch = sourceDateEpoch;
        this.images = List.copyOf(images);
    }

    /** The small set (3 images, a few MB), built by the script on first use and cached afterwards. */
    public static Corpus small() {
        return cached("small");
    }

    /** The full benchmark set (slow the first time: downloads and packs hundreds of MB). */
    public static Corpus full() {
        return cached("full");
    }

    /** Builds (or reuses) {@code set} under the cache directory. */
    static Corpus cached(String set) {
        Path script = script();
        Path cacheRoot = cacheRoot();
        String key = set + "-" + scriptHash(script.getParent());
        Path target = cacheRoot.resolve(key);
        synchronized (BUILD_LOCK) {
            try {
                Files.createDirectories(cacheRoot);
                try (FileChannel ch = FileChannel.open(cacheRoot.resolve(key + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = ch.lock()) {
                    if (Files.isRegularFile(target.resolve("corpus.json"))) {
                        try {
                            Corpus c = load(target);
                            c.checkBlobs();
                            LOG.debug("corpus reuse set={} dir={}", set, target);
                            return c;
                        } catch (RuntimeException e) {
                            LOG.warn("corpus cache unusable, rebuilding dir={} cause={}", target, e.toString());
                            deleteTree(target);
                        }
                    }
                    Path tmp = cacheRoot.resolve(key + ".tmp-" + ProcessHandle.current().pid());
                    deleteTree(tmp);
                    build(set, tmp);
                    try {
                        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, target);
                    }
                    return load(target);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot build or cache corpus '" + set + "' in " + cacheRoot, e);
            }
        }
    }

    /** Runs the build script for {@code set} into {@code outDir} (no caching) and loads the result. */
    public static Corpus build(String set, Path outDir) {
        if (!set.equals("small") && !set.equals("full")) {
            throw new IllegalArgumentException("corpus set must be 'small' or 'full': " + set);
        }
        requireTools(BUILD_TOOLS);
        Path script = script();
        long t0 = System.nanoTime();
        run(List.of("bash", script.toString(), "--set", set, "--out", outDir.toString()), BUILD_TIMEOUT,
                "build of corpus '" + set + "'");
        LOG.info("corpus built set={} dir={} ms={}", set, outDir, (System.nanoTime() - t0) / 1_000_000);
        return load(outDir);
    }

    /**
     * Reads {@code dir/corpus.json} as written by the build script.
     *
     * @throws IllegalStateException if the file is missing, oversized or malformed
     */
    public static Corpus load(Path dir) {
        Path file = dir.resolve("corpus.json");
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("no corpus.json in " + dir);
            }
            if (Files.size(file) > MAX_CORPUS_JSON) {
                throw new IllegalStateException(file + " is larger than " + MAX_CORPUS_JSON + " bytes");
            }
            try (InputStream in = Files.newInputStream(file)) {
                return parse(in.readAllBytes(), dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Parses corpus.json bytes; layout paths resolve against {@code dir}. */
    static Corpus parse(byte[] json, Path dir) {
        if (json.length > MAX_CORPUS_JSON) {
            throw new IllegalStateException("corpus.json is larger than " + MAX_CORPUS_JSON + " bytes");
        }
        CorpusJson doc;
        try {
            doc = JSON.readValue(json, CorpusJson.class);
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            throw new IllegalStateException("malformed corpus.json in " + dir + ": "
                    + (msg.length() > 300 ? msg.substring(0, 300) + "..." : msg), e);
        }
        if (doc == null || doc.set == null || doc.images == null || doc.images.isEmpty()) {
            throw new IllegalStateException("corpus.json in " + dir + " lacks 'set' or 'images'");
        }
        List<Image> images = new ArrayList<>();
        for (ImageJson i : doc.images) {
            if (i == null || i.name == null || !NAME.matcher(i.name).matches()
                    || i.tag == null || !TAG.matcher(i.tag).matches()) {
                throw new IllegalStateException("corpus.json in " + dir + ": bad image name/tag in " + i);
            }
            if (i.layout == null || i.layout.contains("..") || i.layout.startsWith("/")) {
                throw new IllegalStateException("corpus.json: bad layout path for " + i.name + ":" + i.tag);
            }
            requireDigest(i.manifestDigest, "manifestDigest of " + i.name);
            requireDigest(i.configDigest, "configDigest of " + i.name);
            if (i.layers == null || i.layers.isEmpty()) {
                throw new IllegalStateException("corpus.json: image " + i.name + ":" + i.tag + " has no layers");
            }
            List<Layer> layers = new ArrayList<>();
            for (LayerJson l : i.layers) {
                if (l == null) {
                    throw new IllegalStateException("corpus.json: null layer in " + i.name);
                }
                requireDigest(l.digest, "layer digest of " + i.name);
                requireDigest(l.diffId, "layer diffId of " + i.name);
                if (l.size <= 0) {
                    throw new IllegalStateException("corpus.json: layer " + l.digest + " has size " + l.size);
                }
                layers.add(new Layer(l.digest, l.size, l.diffId, Objects.requireNonNullElse(l.mediaType, ""),
                        Objects.requireNonNullElse(l.createdBy, ""),
                        l.packages == null ? List.of() : l.packages));
            }
            images.add(new Image(i.name, i.tag, dir.resolve(i.layout), i.manifestDigest, i.manifestSize,
                    i.configDigest, i.totalSize, layers));
        }
        return new Corpus(doc.set, dir, doc.sourceDateEpoch, images);
    }

    private static void requireDigest(String d, String what) {
        if (d == null || !DIGEST.matcher(d).matches()) {
            throw new IllegalStateException("corpus.json: " + what + " is not a sha256 digest: " + d);
        }
    }

    /** Set name ("small" or "full"). */
    public String set() {
        return set;
    }

    /** Directory holding corpus.json and the layouts. */
    public Path dir() {
        return dir;
    }

    /** SOURCE_DATE_EPOCH the corpus was built with. */
    public long sourceDateEpoch() {
        return sourceDateEpoch;
    }

    /** All images, sorted by reference. */
    public List<Image> images() {
        return images;
    }

    /** The image with the most bytes (what fan-out tests pull). */
    public Image largest() {
        return images.stream().max(java.util.Comparator.comparingLong(Image::totalSize)).orElseThrow();
    }

    /** The image {@code name:tag}. */
    public Image image(String ref) {
        return images.stream().filter(i -> i.ref().equals(ref)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no image " + ref + " in corpus " + set
                        + " (have " + images.stream().map(Image::ref).toList() + ")"));
    }

    /**
     * Pushes every image with {@code skopeo copy} to a registry on loopback, as
     * {@code host:port/name:tag}; blobs and manifests keep their digests.
     *
     * @param registryUrl {@code http://127.0.0.1:PORT} (or localhost / [::1])
     * @return the pushed references, {@code host:port/name:tag}
     */
    public List<String> pushTo(String registryUrl) {
        String hostPort = loopbackHostPort(registryUrl);
        requireTools(List.of("skopeo"));
        List<String> pushed = new ArrayList<>();
        for (Image img : images) {
            String dest = hostPort + "/" + img.ref();
            run(List.of("skopeo", "copy", "-q", "--dest-tls-verify=false", img.ociReference(), "docker://" + dest),
                    PUSH_TIMEOUT, "push of " + img.ref() + " to " + hostPort);
            pushed.add(dest);
        }
        LOG.info("corpus pushed set={} registry={} images={}", set, hostPort, pushed.size());
        return pushed;
    }

    /** {@code host:port} of a loopback registry URL; anything else is refused. */
    static String loopbackHostPort(String registryUrl) {
        var m = LOOPBACK_URL.matcher(Objects.requireNonNull(registryUrl, "registryUrl"));
        if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
            throw new IllegalArgumentException("corpus pushes only go to loopback registries "
                    + "(http://127.0.0.1:PORT, http://localhost:PORT, http://[::1]:PORT): " + registryUrl);
        }
        return m.group(1) + ":" + m.group(2);
    }

    /** Every blob referenced by corpus.json exists with the recorded size. */
    void checkBlobs() {
        for (Image img : images) {
            for (String d : List.of(img.manifestDigest(), img.configDigest())) {
                if (!Files.isRegularFile(img.blob(d))) {
                    throw new IllegalStateException("missing blob " + d + " of " + img.ref());
                }
            }
            for (Layer l : img.layers()) {
                try {
                    if (Files.size(img.blob(l.digest())) != l.size()) {
                        throw new IllegalStateException("blob " + l.digest() + " of " + img.ref() + " has wrong size");
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("missing blob " + l.digest() + " of " + img.ref(), e);
                }
            }
        }
    }

    /** Location of build-corpus.sh: system property {@code layerswarm.corpus.script}, else searched upwards. */
    public static Path script() {
        String prop = System.getProperty("layerswarm.corpus.script");
        if (prop != null) {
            Path p = Path.of(prop);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("layerswarm.corpus.script=" + prop + " does not exist");
            }
            return p.toAbsolutePath();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("scripts/corpus/build-corpus.sh");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("scripts/corpus/build-corpus.sh not found above "
                + Path.of("").toAbsolutePath() + " (set -Dlayerswarm.corpus.script=...)");
    }

    static Path cacheRoot() {
        String env = System.getenv("LAYERSWARM_CORPUS_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "layerswarm", "corpus");
    }

    /** The script files a build reads; their contents key the cache. */
    static final List<String> BUILD_INPUTS = List.of("build-corpus.sh", "full-images.sh");

    /** SHA-256 (first 16 hex digits) over names and contents of the build inputs in {@code scriptDir}. */
    static String scriptHash(Path scriptDir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String name : BUILD_INPUTS) {
                Path f = scriptDir.resolve(name);
                if (!Files.isRegularFile(f)) {
                    throw new IllegalStateException("corpus build input missing: " + f);
                }
                md.update(name.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(Files.readAllBytes(f));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + scriptDir, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fails with a clear message naming the first tool missing from PATH. */
    static void requireTools(List<String> tools) {
        String path = Objects.requireNonNullElse(System.getenv("PATH"), "");
        for (String tool : tools) {
            boolean found = Stream.of(path.split(":")).filter(s -> !s.isEmpty())
                    .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
            if (!found) {
                throw new IllegalStateException("the corpus needs '" + tool + "' on PATH, which is missing: "
                        + "run scripts/install-system-packages.sh (umoci, skopeo) or install "
                        + tool.toLowerCase(Locale.ROOT) + " with apt");
            }
        }
    }

    private static void run(List<String> cmd, Duration timeout, String what) {
        Path log = null;
        try {
            log = Files.createTempFile("layerswarm-corpus-", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done;
            try {
                done = p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException(what + " interrupted", e);
            }
            if (!done) {
                p.destroyForcibly();
                throw new IllegalStateException(what + " timed out after " + timeout + ": " + tail(log));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(what + " failed (exit " + p.exitValue() + "): " + cmd + "\n" + tail(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(what + " could not run " + cmd, e);
        } finally {
            if (log != null) {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException ignored) {
                    // temp file; the OS cleans it eventually
                }
            }
        }
    }

    private static String tail(Path log) throws IOException {
        String s = Files.readString(log, StandardCharsets.UTF_8);
        return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    // Jackson binding of corpus.json (fields as the script writes them).
    static final class CorpusJson {
        public String set;
        public long sourceDateEpoch;
        public List<ImageJson> images;
    }

    static final class ImageJson {
        public String name;
        public String tag;
        public String ref;
        public String layout;
        public String manifestDigest;
        public long manifestSize;
        public String configDigest;
        public long totalSize;
        public List<LayerJson> layers;

        @Override
        public String toString() {
            return name + ":" + tag;
        }
    }

    static final class LayerJson {
        public String digest;
        public long size;
        public String diffId;
        public String mediaType;
        public String createdBy;
        public List<String> packages;
    }
}
