package io.layerswarm.daemon.bench;

import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The chaos soak of issue 10 section 3: N {@code layerswarm node} processes (through the launcher) in
 * front of the real docker-registry holding the small corpus; pull workers pull random corpus images
 * through random live nodes' mirrors with skopeo while a seeded chaos loop {@code kill -9}s and restarts
 * nodes (same cache directory), stops and restarts the registry (same storage and port) and flips a
 * byte in a committed blob of one node's content store (bit rot on disk: the libp2p channel is
 * encrypted, so corrupting bytes on the wire without a hook in production code only breaks the
 * connection). At the end it stops the nodes, re-hashes every stored blob, checks the stores against
 * the commit / delete / evict lines of the nodes' logs and prints one
 * {@code invariant=NAME result=pass|fail detail=...} line per invariant and a {@code summary} line;
 * the exit status is 1 if an invariant failed.
 *
 * <p>Run by {@code scripts/reliability/chaos-soak.sh}. Everything goes over loopback.
 */
@Command(name = "chaos-soak", mixinStandardHelpOptions = true,
        description = "Pulls through node mirrors while nodes are killed, the registry restarted and blobs rot.")
public final class ChaosSoak implements Callable<Integer> {
    private static final Pattern STORE_LINE =
            Pattern.compile("(store\\.commit|store\\.delete|cache\\.evict) digest=sha256:([0-9a-f]{64})");
    /** A peer refusing a source whose bytes failed their piece hash. */
    private static final Pattern BAD_PIECE =
            Pattern.compile("event=source_banned .*reason=\"bad piece|event=piece_hash_disputed|event=piece_hashes_lied");
    private static final Duration SAMPLE_EVERY = Duration.ofSeconds(2);

    @Option(names = "--minutes", defaultValue = "30", description = "Length of the chaos phase (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--nodes", defaultValue = "6", description = "Node processes (default: ${DEFAULT-VALUE}).")
    int nodeCount;

    @Option(names = "--seed", description = "Seed of every random choice (default: the start time).")
    Long seed;

    @Option(names = "--out", required = true, description = "Directory for node state, logs and events (created).")
    Path out;

    @Option(names = "--launcher", required = true, description = "The layerswarm launcher script.")
    Path launcher;

    @Option(names = "--workers", defaultValue = "2", description = "Concurrent pull workers (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--retries", defaultValue = "5", description = "Retries of a failed pull (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--chaos-interval-s", defaultValue = "20",
            description = "Mean seconds between chaos actions (default: ${DEFAULT-VALUE}).")
    double chaosIntervalS;

    @Option(names = "--cache-capacity", description = "Each node's --cache-capacity in bytes (default: 80 % of the"
            + " corpus's distinct blob bytes, at least 1.2 x its largest image, so eviction happens).")
    Long cacheCapacity;

    @Option(names = "--rss-limit-mib", defaultValue = "400",
            description = "A node's RSS above this fails the resource invariant (default: ${DEFAULT-VALUE}).")
    long rssLimitMib;

    @Option(names = "--fd-limit", defaultValue = "1000",
            description = "A node's open fds above this fail the resource invariant (default: ${DEFAULT-VALUE}).")
    long fdLimit;

    private RegistryFixture registry;
    private Random random;
    private long deadlineNanos;
    private Path eventLog;
    private final List<Slot> slots = new ArrayList<>();
    private final Map<String, Reference> references = new TreeMap<>();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "soak");
        t.setDaemon(true);
        return t;
    });

    private final AtomicLong pulls = new AtomicLong();
    private final AtomicLong pullsFirstTry = new AtomicLong();
    private final AtomicLong pullsRetried = new AtomicLong();
    private final AtomicLong pullsFailed = new AtomicLong();
    private final AtomicLong attemptsFailed = new AtomicLong();
    private final AtomicLong wrongContent = new AtomicLong();
    private final AtomicLong kills = new AtomicLong();
    private final AtomicLong restartFailures = new AtomicLong();
    private final AtomicLong registryRestarts = new AtomicLong();
    private final Map<String, AtomicLong> errorClasses = new ConcurrentHashMap<>();
    private final List<Corruption> corruptions = new CopyOnWriteArrayList<>();
    /** Failed pull attempts: which node, when, and the error class, to tie errors to a corruption. */
    private final List<FailedAttempt> failedAttempts = new CopyOnWriteArrayList<>();

    /** What the registry itself serves for an image: manifest digest and every blob's hex digest. */
    private record Reference(String manifestDigest, Set<String> blobs) {
    }

    /**
     * A byte flipped in a committed blob of node {@code slot}; {@code logOffset} is the size of the node's
     * log then, so the end can read what the node did with that blob afterwards.
     */
    private record Corruption(int slot, String hex, long offset, long atNanos, long logOffset) {
    }

    private record FailedAttempt(int slot, long atNanos, String errorClass) {
    }

    /**
     * One node position: its directory survives kills, the process behind it changes. RSS and fd
     * figures cover every process that held the position.
     */
    private static final class Slot {
        final int index;
        final Path dir;
        volatile LauncherNode node;
        int restarts;
        long rssMinKib = Long.MAX_VALUE;
        long rssMaxKib;
        long fdMin = Long.MAX_VALUE;
        long fdMax;

        Slot(int index, Path dir) {
            this.index = index;
            this.dir = dir;
        }

        String name() {
            return "node" + index;
        }

        Path blobDir() {
            return dir.resolve("cache").resolve("blobs").resolve("sha256");
        }

        synchronized void sample(long rssKib, long fds) {
            rssMinKib = Math.min(rssMinKib, rssKib);
            rssMaxKib = Math.max(rssMaxKib, rssKib);
            fdMin = Math.min(fdMin, fds);
            fdMax = Math.max(fdMax, fds);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ChaosSoak()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (minutes <= 0 || nodeCount < 2 || workers < 1 || retries < 0 || chaosIntervalS <= 0) {
            System.err.println("error: --minutes > 0, --nodes >= 2, --workers >= 1, --retries >= 0, --chaos-interval-s > 0");
            return 2;
        }
        long s = seed != null ? seed : System.currentTimeMillis();
        random = new Random(s);
        Files.createDirectories(out);
        eventLog = out.resolve("events.log");
        Thread hook = new Thread(this::closeAll, "soak-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            log("event=soak_start minutes=" + minutes + " nodes=" + nodeCount + " seed=" + s + " out=" + out);
            return soak(s);
        } finally {
            closeAll();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
    }

    private int soak(long s) throws Exception {
        Corpus corpus = Corpus.small();
        registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        corpus.pushTo(registry.baseUri().toString());
        for (Corpus.Image img : corpus.images()) {
            Path dir = out.resolve("reference").resolve(img.name() + "-" + img.tag());
            references.put(img.ref(), pullAndCheck("docker://" + registry.hostPort() + "/" + img.ref(), dir, null));
        }
        long capacity = cacheCapacity != null ? cacheCapacity : capacity(corpus);
        log("event=reference images=" + references.size() + " cache_capacity=" + capacity + " registry="
                + registry.hostPort());

        // The nodes' stores log every commit and delete and the cache every eviction (DEBUG lines), so the
        // end can tell an evicted blob from a lost one; everything else stays at INFO.
        Path logback = out.resolve("logback-soak.xml");
        Files.writeString(logback, """
                <configuration>
                  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} %msg%n</pattern></encoder>
                  </appender>
                  <logger name="io.layerswarm.cache.store.ContentStore" level="DEBUG"/>
                  <logger name="io.layerswarm.cache.LayerCache" level="DEBUG"/>
                  <root level="INFO"><appender-ref ref="STDERR"/></root>
                </configuration>
                """);
        Map<String, String> env = Map.of("LAYERSWARM_JAVA_OPTS_EXTRA", "-Dlogback.configurationFile=" + logback);
        List<String> nodeArgs = List.of("--cache-capacity", Long.toString(capacity));
        for (int i = 0; i < nodeCount; i++) {
            Slot slot = new Slot(i, out.resolve("node" + i));
            slots.add(slot);
            List<String> extra = new ArrayList<>(nodeArgs);
            if (i > 0) {
                extra.addAll(List.of("--bootstrap", slots.get(0).node.listen));
            }
            slot.node = LauncherNode.start(launcher, slot.name(), slot.dir, registry.baseUri().toString(), extra,
                    env, pool);
            log("event=node_started node=" + slot.name() + " pid=" + slot.node.pid() + " mirror=" + slot.node.mirror);
        }
        for (Slot slot : slots) {
            if (!slot.node.awaitPeers(nodeCount - 1, Duration.ofSeconds(60))) {
                log("event=peers_incomplete node=" + slot.name() + " peers=" + slot.node.peers());
            }
        }

        deadlineNanos = System.nanoTime() + (long) (minutes * 60e9);
        List<Future<?>> tasks = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            Random r = new Random(random.nextLong());
            Path dir = out.resolve("pulls").resolve("w" + w);
            tasks.add(pool.submit(() -> pullLoop(r, dir)));
        }
        tasks.add(pool.submit(() -> chaosLoop(new Random(random.nextLong()), env, nodeArgs)));
        Future<?> sampler = pool.submit(this::sampleLoop);
        for (Future<?> t : tasks) {
            t.get();
        }
        sampler.cancel(true);

        for (Slot slot : slots) {
            if (slot.node != null) {
                slot.node.close();
            }
        }
        return report(s);
    }

    /**
     * 80 % of the corpus's distinct blob bytes, at least 1.2 x its largest image: eviction happens, but a
     * blob usually lives long enough to be served (with half, the small corpus thrashed: a rotted blob was
     * evicted within seconds, before anyone asked for it).
     */
    private static long capacity(Corpus corpus) throws IOException {
        Map<String, Long> sizes = new HashMap<>();
        long largest = 0;
        for (Corpus.Image img : corpus.images()) {
            long total = 0;
            for (Corpus.Layer l : img.layers()) {
                sizes.put(l.digest(), l.size());
                total += l.size();
            }
            long config = Files.size(img.blob(img.configDigest()));
            sizes.put(img.configDigest(), config);
            largest = Math.max(largest, total + config);
        }
        long distinct = sizes.values().stream().mapToLong(Long::longValue).sum();
        return Math.max(distinct * 4 / 5, largest * 6 / 5);
    }

    // ---- pulls ----

    private void pullLoop(Random r, Path dir) {
        List<String> refs = new ArrayList<>(references.keySet());
        while (System.nanoTime() < deadlineNanos) {
            String ref = refs.get(r.nextInt(refs.size()));
            pullWithRetries(r, ref, dir);
        }
    }

    /**
     * One logical pull: through a random live node, again through a random live node after a failure
     * (3 s apart, so a registry outage or a restart can end), at most {@code 1 + retries} attempts.
     */
    private void pullWithRetries(Random r, String ref, Path dir) {
        long n = pulls.incrementAndGet();
        for (int attempt = 0; attempt <= retries; attempt++) {
            Slot slot = randomLive(r);
            if (slot == null) {
                pause(Duration.ofSeconds(1));
                continue;
            }
            LauncherNode node = slot.node;
            if (node == null) {
                continue;
            }
            long t0 = System.nanoTime();
            try {
                pullAndCheck("docker://" + node.mirror + "/" + ref, dir, references.get(ref));
                log(String.format(Locale.ROOT, "event=pull_done pull=%d image=%s node=%s attempt=%d seconds=%.2f",
                        n, ref, slot.name(), attempt + 1, (System.nanoTime() - t0) / 1e9));
                (attempt == 0 ? pullsFirstTry : pullsRetried).incrementAndGet();
                return;
            } catch (WrongContentException e) {
                wrongContent.incrementAndGet();
                log("event=pull_wrong_content pull=" + n + " image=" + ref + " node=" + slot.name() + " detail=\""
                        + oneLine(e.getMessage()) + "\"");
                return;
            } catch (IOException | RuntimeException e) {
                attemptsFailed.incrementAndGet();
                String cls = errorClass(e.getMessage());
                errorClasses.computeIfAbsent(cls, k -> new AtomicLong()).incrementAndGet();
                failedAttempts.add(new FailedAttempt(slot.index, t0, cls));
                log("event=pull_attempt_failed pull=" + n + " image=" + ref + " node=" + slot.name() + " attempt="
                        + (attempt + 1) + " class=" + cls + " error=\"" + oneLine(e.getMessage()) + "\"");
                pause(Duration.ofSeconds(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        pullsFailed.incrementAndGet();
        log("event=pull_failed pull=" + n + " image=" + ref + " attempts=" + (retries + 1));
    }

    /** Content a pull completed with that differs from the registry's. */
    private static final class WrongContentException extends IOException {
        WrongContentException(String m) {
            super(m);
        }
    }

    /**
     * {@code skopeo copy SRC dir:DIR}, then every blob file re-hashed against its name; compared with
     * {@code expected} unless that is null. skopeo itself verifies digests, so a corrupt blob shows up
     * as its error; the re-hash guards against a tool that would not.
     */
    private static Reference pullAndCheck(String src, Path dir, Reference expected)
            throws IOException, InterruptedException {
        Containerd.deleteTree(dir);
        Files.createDirectories(dir.getParent());
        Processes.run(200, "skopeo", "--command-timeout", "180s", "--insecure-policy", "copy", "-q",
                "--src-tls-verify=false", src, "dir:" + dir);
        String manifest = sha256(dir.resolve("manifest.json"));
        Set<String> blobs = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.matches("[0-9a-f]{64}")) {
                    String actual = sha256(f).substring("sha256:".length());
                    if (!actual.equals(name)) {
                        throw new WrongContentException(src + ": blob " + name + " hashes to " + actual);
                    }
                    blobs.add(name);
                }
            }
        }
        Reference got = new Reference(manifest, blobs);
        if (expected != null && !expected.equals(got)) {
            throw new WrongContentException(src + ": got " + got + ", registry has " + expected);
        }
        return got;
    }

    /** A short, stable label for an error, so the summary can count kinds rather than messages. */
    static String errorClass(String message) {
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (m.contains("digest")) {
            return "digest_mismatch";
        } else if (m.contains("connection refused")) {
            return "connection_refused";
        } else if (m.contains("connection reset") || m.contains("broken pipe") || m.contains("eof")) {
            return "connection_dropped";
        } else if (m.contains("timed out") || m.contains("timeout") || m.contains("deadline")) {
            return "timeout";
        } else if (m.contains("manifest unknown") || m.contains("not found") || m.contains("404")) {
            return "not_found";
        } else if (Pattern.compile("\\b5\\d\\d\\b").matcher(m).find()) {
            return "server_error";
        }
        return "other";
    }

    // ---- chaos ----

    private enum Action { KILL, REGISTRY_RESTART, BIT_ROT }

    /**
     * Every {@code chaos-interval-s} (0.5 to 1.5 x, seeded) one action; actions come in shuffled rounds
     * of all three kinds, so even a 3-minute run does each of them.
     */
    private void chaosLoop(Random r, Map<String, String> env, List<String> nodeArgs) {
        List<Action> round = new ArrayList<>();
        try {
            while (true) {
                long waitMs = (long) (chaosIntervalS * 1000 * (0.5 + r.nextDouble()));
                if (System.nanoTime() + waitMs * 1_000_000 >= deadlineNanos) {
                    return;
                }
                Thread.sleep(waitMs); // timed chaos is the point of a soak
                if (round.isEmpty()) {
                    round.addAll(List.of(Action.values()));
                    Collections.shuffle(round, r);
                }
                switch (round.remove(0)) {
                    case KILL -> killAndRestart(r, env, nodeArgs);
                    case REGISTRY_RESTART -> restartRegistry(r);
                    case BIT_ROT -> rot(r);
                    default -> throw new IllegalStateException();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void killAndRestart(Random r, Map<String, String> env, List<String> nodeArgs) throws InterruptedException {
        Slot slot = randomLive(r);
        if (slot == null) {
            return;
        }
        LauncherNode victim = slot.node;
        slot.node = null;
        victim.kill();
        kills.incrementAndGet();
        long downMs = 2000 + r.nextInt(4000);
        log("event=node_killed node=" + slot.name() + " pid=" + victim.pid() + " down_ms=" + downMs);
        Thread.sleep(downMs);
        // the restarted node joins through every live node: the first node may be the one that died
        List<String> extra = new ArrayList<>(nodeArgs);
        for (Slot other : slots) {
            LauncherNode o = other.node;
            if (o != null && o.process.isAlive()) {
                extra.addAll(List.of("--bootstrap", o.listen));
            }
        }
        try {
            LauncherNode n = LauncherNode.start(launcher, slot.name(), slot.dir, registry.baseUri().toString(), extra,
                    env, pool);
            slot.restarts++;
            slot.node = n;
            log("event=node_restarted node=" + slot.name() + " pid=" + n.pid() + " mirror=" + n.mirror);
        } catch (IOException e) {
            restartFailures.incrementAndGet();
            log("event=node_restart_failed node=" + slot.name() + " error=\"" + oneLine(e.getMessage()) + "\"");
        }
    }

    private void restartRegistry(Random r) throws InterruptedException {
        long downMs = 3000 + r.nextInt(7000);
        registry.stop();
        log("event=registry_stopped down_ms=" + downMs);
        Thread.sleep(downMs);
        try {
            registry.restart();
            registryRestarts.incrementAndGet();
            log("event=registry_restarted");
        } catch (RuntimeException e) {
            log("event=registry_restart_failed error=\"" + oneLine(e.getMessage()) + "\"");
        }
    }

    /** Flips one byte of a random committed blob of a random live node, in place (root ignores 0444). */
    private void rot(Random r) {
        Slot slot = randomLive(r);
        if (slot == null) {
            return;
        }
        try {
            List<Path> blobs;
            try (Stream<Path> files = Files.list(slot.blobDir())) {
                blobs = files.filter(f -> f.getFileName().toString().matches("[0-9a-f]{64}")).sorted().toList();
            }
            if (blobs.isEmpty()) {
                log("event=bit_rot_skipped node=" + slot.name() + " reason=empty_store");
                return;
            }
            Path f = blobs.get(r.nextInt(blobs.size()));
            long size = Files.size(f);
            long offset = size == 0 ? 0 : (long) (r.nextDouble() * size);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                ch.read(b, offset);
                b.flip();
                byte flipped = (byte) (b.get(0) ^ 0x5a);
                ch.write(ByteBuffer.wrap(new byte[] {flipped}), offset);
            }
            corruptions.add(new Corruption(slot.index, f.getFileName().toString(), offset, System.nanoTime(),
                    Files.size(slot.dir.resolve("stderr.log"))));
            log("event=bit_rot node=" + slot.name() + " blob=sha256:" + f.getFileName() + " offset=" + offset
                    + " size=" + size);
        } catch (IOException e) {
            // the blob may have been evicted between listing and opening
            log("event=bit_rot_skipped node=" + slot.name() + " reason=\"" + oneLine(e.toString()) + "\"");
        }
    }

    private Slot randomLive(Random r) {
        List<Slot> live = slots.stream().filter(s -> s.node != null && s.node.process.isAlive()).toList();
        return live.isEmpty() ? null : live.get(r.nextInt(live.size()));
    }

    // ---- sampling ----

    private void sampleLoop() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                for (Slot slot : slots) {
                    LauncherNode n = slot.node;
                    if (n == null || !n.process.isAlive()) {
                        continue;
                    }
                    long rss = ContainerdFanOutBench.procStatusKib(n.pid(), "VmRSS:");
                    long fds = fdCount(n.pid());
                    if (rss > 0 && fds > 0) {
                        slot.sample(rss, fds);
                    }
                }
                Thread.sleep(SAMPLE_EVERY.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long fdCount(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        } catch (IOException e) {
            return 0; // the process is gone
        }
    }

    // ---- end ----

    private int report(long s) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean ok = true;

        long failed = pullsFailed.get();
        long wrong = wrongContent.get();
        String classes = new TreeMap<>(errorClasses).toString().replace(" ", "");
        boolean pullsOk = failed == 0 && wrong == 0;
        lines.add(invariant("pulls_complete_identical", pullsOk, String.format(Locale.ROOT,
                "pulls=%d first_try=%d after_retry=%d failed_after_%d_retries=%d wrong_content=%d failed_attempts=%d"
                        + " error_classes=%s", pulls.get(), pullsFirstTry.get(), pullsRetried.get(), retries, failed,
                wrong, attemptsFailed.get(), classes)));
        ok &= pullsOk;

        // Full re-hash of every store; a bad blob is either one we rotted that the node kept, or a finding.
        List<String> badBlobs = new ArrayList<>();
        Map<Integer, Set<String>> present = new HashMap<>();
        long hashed = 0;
        for (Slot slot : slots) {
            Set<String> here = new TreeSet<>();
            if (Files.isDirectory(slot.blobDir())) {
                try (Stream<Path> files = Files.list(slot.blobDir())) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        String name = f.getFileName().toString();
                        if (!name.matches("[0-9a-f]{64}")) {
                            continue;
                        }
                        here.add(name);
                        hashed++;
                        if (!sha256(f).equals("sha256:" + name)) {
                            badBlobs.add(slot.name() + ":" + name.substring(0, 12)
                                    + (isRotted(slot.index, name) ? "(rotted_by_soak)" : "(NOT_rotted_by_soak)"));
                        }
                    }
                }
            }
            present.put(slot.index, here);
        }
        boolean digestsOk = badBlobs.isEmpty();
        lines.add(invariant("stored_blobs_match_digest", digestsOk, "blobs_hashed=" + hashed + " bad="
                + badBlobs.size() + (badBlobs.isEmpty() ? "" : " " + badBlobs)));
        ok &= digestsOk;

        // What became of each corruption. Only a delete that is not an eviction is the node noticing; the
        // rot may also be masked by an eviction, or caught by whoever hashed the bytes the node served
        // (mirror clients: digest errors; peers: bad pieces). Rot still on disk at the end fails the
        // digest invariant above.
        long deletedByNode = 0;
        long stillCorrupt = 0;
        long servedToClients = 0;
        List<String> fates = new ArrayList<>();
        for (Corruption c : corruptions) {
            Slot slot = slots.get(c.slot());
            Path f = slot.blobDir().resolve(c.hex());
            String fate = afterRot(slot, c);
            if (fate.equals("deleted_by_node")) {
                deletedByNode++;
            }
            if (Files.exists(f) && !sha256(f).equals("sha256:" + c.hex())) {
                fate = "still_corrupt";
                stillCorrupt++;
            }
            long servedBad = failedAttempts.stream().filter(a -> a.errorClass().equals("digest_mismatch")
                    && latestRotBefore(a) == c).count();
            servedToClients += servedBad;
            fates.add(slot.name() + ":" + c.hex().substring(0, 12) + "=" + fate + "/mirror_digest_errors_after="
                    + servedBad);
        }
        long peerDetections = 0;
        for (Slot slot : slots) {
            peerDetections += Files.readAllLines(slot.dir.resolve("stderr.log")).stream().filter(l ->
                    BAD_PIECE.matcher(l).find()).count();
        }
        long detected = deletedByNode;
        // A mirror client's digest error means the node handed out the rotted bytes: the client caught
        // them, not the node, so it fails the invariant even though the retry elsewhere succeeded.
        boolean rotOk = stillCorrupt == 0 && wrongContent.get() == 0 && servedToClients == 0;
        lines.add(invariant("rotted_bytes_never_handed_out", rotOk, "corruptions=" + corruptions.size()
                + " deleted_by_node=" + deletedByNode + " still_corrupt_at_end=" + stillCorrupt
                + " served_to_mirror_clients=" + servedToClients + " peers_refused_bad_piece=" + peerDetections
                + " " + fates));
        ok &= rotOk;

        // Committed blobs may only disappear through eviction (the logs' last word on each digest).
        long evictions = 0;
        List<String> lost = new ArrayList<>();
        List<String> deletedNotEvicted = new ArrayList<>();
        for (Slot slot : slots) {
            Map<String, String> last = new LinkedHashMap<>();
            for (String line : Files.readAllLines(slot.node == null ? slot.dir.resolve("stderr.log") : slot.node.stderr)) {
                Matcher m = STORE_LINE.matcher(line);
                if (m.find()) {
                    last.put(m.group(2), m.group(1));
                    if (m.group(1).equals("cache.evict")) {
                        evictions++;
                    }
                }
            }
            for (Map.Entry<String, String> e : last.entrySet()) {
                boolean here = present.get(slot.index).contains(e.getKey());
                if (e.getValue().equals("store.commit") && !here) {
                    lost.add(slot.name() + ":" + e.getKey().substring(0, 12));
                } else if (e.getValue().equals("store.delete") && !here && !isRotted(slot.index, e.getKey())) {
                    deletedNotEvicted.add(slot.name() + ":" + e.getKey().substring(0, 12));
                }
            }
        }
        boolean keptOk = lost.isEmpty() && deletedNotEvicted.isEmpty();
        lines.add(invariant("committed_blobs_kept_unless_evicted", keptOk, "evictions=" + evictions + " lost="
                + lost.size() + (lost.isEmpty() ? "" : " " + lost) + " deleted_not_evicted=" + deletedNotEvicted.size()
                + (deletedNotEvicted.isEmpty() ? "" : " " + deletedNotEvicted)));
        ok &= keptOk;

        boolean boundedOk = true;
        StringBuilder res = new StringBuilder();
        for (Slot slot : slots) {
            boolean sampled = slot.rssMaxKib > 0;
            boundedOk &= !sampled || (slot.rssMaxKib <= rssLimitMib * 1024 && slot.fdMax <= fdLimit);
            String fig = sampled ? String.format(Locale.ROOT, "%s:rss_mib=%.0f-%.0f,fds=%d-%d,restarts=%d", slot.name(),
                    slot.rssMinKib / 1024.0, slot.rssMaxKib / 1024.0, slot.fdMin, slot.fdMax, slot.restarts)
                    : slot.name() + ":unsampled";
            res.append(res.isEmpty() ? "" : " ").append(fig);
            System.out.println("node=" + slot.name() + " " + fig.substring(fig.indexOf(':') + 1).replace(',', ' '));
        }
        lines.add(invariant("rss_and_fds_bounded", boundedOk, "limits rss_mib<=" + rssLimitMib + " fds<=" + fdLimit
                + " " + res));
        ok &= boundedOk;

        lines.forEach(System.out::println);
        String summary = String.format(Locale.ROOT, "summary result=%s minutes=%s nodes=%d seed=%d pulls=%d"
                        + " pulls_failed=%d pulls_retried=%d failed_attempts=%d kills=%d restart_failures=%d"
                        + " registry_restarts=%d corruptions=%d corruptions_deleted_by_node=%d rot_served_to_mirror_clients=%d"
                        + " peers_refused_bad_piece=%d evictions=%d",
                ok ? "pass" : "fail", minutes, nodeCount, s, pulls.get(), failed, pullsRetried.get(),
                attemptsFailed.get(), kills.get(), restartFailures.get(), registryRestarts.get(), corruptions.size(),
                detected, servedToClients, peerDetections, evictions);
        System.out.println(summary);
        Files.write(out.resolve("summary.txt"), Stream.concat(lines.stream(), Stream.of(summary)).toList());
        return ok ? 0 : 1;
    }

    /**
     * The node's first word on a rotted blob after the rot: {@code evicted} (the cache dropped it, rot
     * unnoticed), {@code deleted_by_node} (deleted, not by eviction), {@code recommitted}, or
     * {@code untouched}.
     */
    private static String afterRot(Slot slot, Corruption c) throws IOException {
        byte[] all = Files.readAllBytes(slot.dir.resolve("stderr.log"));
        String after = new String(all, (int) Math.min(c.logOffset(), all.length),
                (int) (all.length - Math.min(c.logOffset(), all.length)), java.nio.charset.StandardCharsets.UTF_8);
        Matcher m = STORE_LINE.matcher(after);
        while (m.find()) {
            if (!m.group(2).equals(c.hex())) {
                continue;
            }
            if (m.group(1).equals("store.commit")) {
                return "recommitted";
            }
            // the cache logs cache.evict right after the store's delete line
            boolean evicted = m.group(1).equals("cache.evict") || after.substring(m.end(),
                    Math.min(after.length(), m.end() + 400)).contains("cache.evict digest=sha256:" + c.hex());
            return evicted ? "evicted" : "deleted_by_node";
        }
        return "untouched";
    }

    /** The last rot on the attempt's node before it started: what a digest error there is blamed on. */
    private Corruption latestRotBefore(FailedAttempt a) {
        return corruptions.stream().filter(c -> c.slot() == a.slot() && c.atNanos() < a.atNanos())
                .max(java.util.Comparator.comparingLong(Corruption::atNanos)).orElse(null);
    }

    private boolean isRotted(int slot, String hex) {
        return corruptions.stream().anyMatch(c -> c.slot() == slot && c.hex().equals(hex));
    }

    private static String invariant(String name, boolean pass, String detail) {
        return "invariant=" + name + " result=" + (pass ? "pass" : "fail") + " detail=" + detail;
    }

    // ---- helpers ----

    private synchronized void log(String line) {
        String stamped = java.time.Instant.now() + " " + line;
        System.out.println(stamped);
        try {
            Files.writeString(eventLog, stamped + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("event log: " + e);
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis()); // retry back-off of the soak's client, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("\\s+", " ").replace('"', '\'').strip();
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void closeAll() {
        for (Slot slot : slots) {
            LauncherNode n = slot.node;
            if (n != null && n.process.isAlive()) {
                try {
                    n.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (registry != null) {
            registry.close();
            registry = null;
        }
        pool.shutdownNow();
    }
}
