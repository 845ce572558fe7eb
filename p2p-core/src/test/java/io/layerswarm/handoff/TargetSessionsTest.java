package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.handoff.ContainerRuntime.TaskState;
import io.layerswarm.handoff.HandoffClient.HandoffRefusedException;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The target's sessions over {@code /layerswarm/handoff/1.0.0} between two in-process hosts: the final
 * round with its restore on one stream, a recovering source's resolve (the split-brain window), and the
 * target removing containers of sessions nobody will finish (after its own crash, or when idle).
 */
class TargetSessionsTest {
    private static final String SESSION = "web-0a1b2c";
    private static final ContainerConfig WEB = new ContainerConfig("web",
            new ImageRef("registry.local", "library/web", "sha256:" + "a".repeat(64)), List.of("sh", "-c", "run"), "");

    @TempDir
    Path tmp;
    Host source;
    Host target;
    HandoffClient client;
    final List<TargetSessions> opened = new CopyOnWriteArrayList<>();

    /** Containers in memory: created ones get a writable layer directory; records every call. */
    final class Containers implements ContainerRuntime {
        final Map<String, TaskState> tasks = new ConcurrentHashMap<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public TaskState taskState(String id) {
            return tasks.getOrDefault(id, TaskState.NONE);
        }

        @Override
        public WritableLayer writableLayer(String id) throws IOException {
            return new WritableLayer(Files.createDirectories(tmp.resolve("layers").resolve(id)), List.of());
        }

        @Override
        public void pull(ImageRef image) {
            calls.add("pull");
        }

        @Override
        public void create(ContainerConfig config) {
            calls.add("create " + config.id());
        }

        @Override
        public void start(String id) {
            calls.add("start " + id);
            tasks.put(id, TaskState.RUNNING);
        }

        @Override
        public void remove(String id) {
            calls.add("remove " + id);
            tasks.remove(id);
        }

        @Override
        public ContainerConfig inspect(String id) {
            throw new AssertionError("not used");
        }

        @Override
        public void pause(String id) {
            throw new AssertionError("not used");
        }

        @Override
        public void resume(String id) {
            throw new AssertionError("not used");
        }

        @Override
        public void stop(String id) {
            throw new AssertionError("not used");
        }
    }

    private static Host newHost() throws IOException {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
    }

    @BeforeEach
    void setUp() throws IOException {
        source = newHost();
        target = newHost();
        source.peerStore().addAddrs(target.peerId(), target.listenAddrs());
        client = new HandoffClient(source, Duration.ofSeconds(10), new RoundWriter());
    }

    @AfterEach
    void tearDown() {
        opened.forEach(TargetSessions::closeAll);
        source.close();
        target.close();
    }

    /** A target node's sessions in {@code tmp/in}, served on the target host. */
    private TargetSessions serve(Containers rt, Duration idle) throws IOException {
        TargetSessions t = new TargetSessions(null, rt, tmp.resolve("in"), RoundReceiver.Limits.defaults(), idle);
        opened.add(t);
        t.init();
        new HandoffServer(p -> true, t).attach(target);
        return t;
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    private Path record() {
        return tmp.resolve("in").resolve(SESSION + ".session");
    }

    @Test
    void theFinalRoundAndTheRestoreShareOneStreamAndTheContainerStartsWithTheFinalFiles() throws IOException {
        Containers rt = new Containers();
        serve(rt, Duration.ofMinutes(10));
        client.begin(target.peerId(), SESSION, WEB);
        assertTrue(Files.readString(record()).contains("state=open"), "the record is on disk before the rounds");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("state"), "final", StandardCharsets.UTF_8);
        RoundPlan plan = RoundPlanner.plan(1, Manifest.empty(), TreeScanner.scan(src), java.util.Set.of());

        HandoffClient.FinalResult r = client.sendFinalRound(client.openStream(target.peerId()), SESSION, plan, src);

        assertEquals(1, r.round().inlineFiles());
        assertTrue(r.restore().installSeconds() >= 0 && r.restore().startSeconds() >= 0, r.restore().toString());
        assertEquals(TaskState.RUNNING, rt.taskState("web"));
        assertEquals("final", Files.readString(tmp.resolve("layers/web/state")));
        assertTrue(Files.readString(record()).contains("state=started"));
        assertEquals(HandoffTarget.Outcome.STARTED, client.resolve(target.peerId(), SESSION));
        assertFalse(rt.calls.contains("remove web"), rt.calls.toString());
    }

    @Test
    void aResolveAbortsAnOpenSessionRemovesItsContainerAndALaterRestoreIsRefused() throws IOException {
        Containers rt = new Containers();
        serve(rt, Duration.ofMinutes(10));
        client.begin(target.peerId(), SESSION, WEB);

        assertEquals(HandoffTarget.Outcome.ABORTED, client.resolve(target.peerId(), SESSION));

        assertTrue(rt.calls.contains("remove web"), rt.calls.toString());
        assertThrows(HandoffRefusedException.class, () -> client.restore(target.peerId(), SESSION));
        assertFalse(rt.calls.contains("start web"), "an aborted session never starts: " + rt.calls);
        assertEquals(HandoffTarget.Outcome.ABORTED, client.resolve(target.peerId(), SESSION), "asked again");
        assertEquals(HandoffTarget.Outcome.UNKNOWN, client.resolve(target.peerId(), "never-begun"));
    }

    @Test
    void anotherPeerCannotResolveTheSession() throws IOException {
        Containers rt = new Containers();
        serve(rt, Duration.ofMinutes(10));
        client.begin(target.peerId(), SESSION, WEB);
        try (Host other = newHost()) {
            other.peerStore().addAddrs(target.peerId(), target.listenAddrs());
            HandoffClient intruder = new HandoffClient(other, Duration.ofSeconds(10), new RoundWriter());
            assertThrows(HandoffRefusedException.class, () -> intruder.resolve(target.peerId(), SESSION));
        }
        assertFalse(rt.calls.contains("remove web"), "the owner's session stays: " + rt.calls);
    }

    @Test
    void aSessionOpenWhenTheTargetCrashedIsRemovedAtItsNextStartUnlessItsTaskExists() throws Exception {
        Containers rt = new Containers();
        TargetSessions first = serve(rt, Duration.ofMinutes(10));
        client.begin(target.peerId(), SESSION, WEB);
        client.begin(target.peerId(), "db-1", new ContainerConfig("db", WEB.image(), List.of("db"), ""));
        rt.tasks.put("db", TaskState.RUNNING); // as if its restore had started it just before the crash
        opened.remove(first); // crashed: nothing closed

        TargetSessions again = new TargetSessions(null, rt, tmp.resolve("in"), RoundReceiver.Limits.defaults(),
                Duration.ofMinutes(10));
        opened.add(again);
        assertEquals(Map.of(SESSION, "aborted", "db-1", "started"), again.init());

        assertTrue(rt.calls.contains("remove web"), rt.calls.toString());
        assertFalse(rt.calls.contains("remove db"), rt.calls.toString());
        assertFalse(Files.exists(tmp.resolve("in").resolve(SESSION)), "staging tree removed");
        assertEquals(HandoffTarget.Outcome.ABORTED, again.resolve(source.peerId(), SESSION));
        assertEquals(HandoffTarget.Outcome.STARTED, again.resolve(source.peerId(), "db-1"));
    }

    @Test
    void aSessionWithNoRequestForTheIdleLimitIsAbortedByTheTargetItself() throws Exception {
        Containers rt = new Containers();
        serve(rt, Duration.ofMillis(300));
        client.begin(target.peerId(), SESSION, WEB);

        await("the idle session's container removed", () -> rt.calls.contains("remove web"));
        // the record is rewritten after the container went
        await("its record says aborted", () -> {
            try {
                return Files.readString(record()).contains("state=aborted");
            } catch (IOException e) {
                return false; // mid-rename
            }
        });
        assertThrows(HandoffRefusedException.class, () -> client.restore(target.peerId(), SESSION));
        assertEquals(HandoffTarget.Outcome.ABORTED, client.resolve(target.peerId(), SESSION));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "layerswarm-handoff-session 1\n", "layerswarm-handoff-session 2\nstate=open\ncontainer=a\nsource=b\n",
            "layerswarm-handoff-session 1\nstate=running\ncontainer=a\nsource=b\n",
            "layerswarm-handoff-session 1\nstate=open\ncontainer=\nsource=b\n",
            "layerswarm-handoff-session 1\ncontainer=a\nstate=open\nsource=b\n",
            "layerswarm-handoff-session 1\nstate=open\ncontainer=a\nsource=b\nextra=1\n", "\u0000\u0001garbage"})
    void garbageSessionRecordsAreRefused(String text) {
        assertThrows(IOException.class, () -> TargetSessions.parseRecord(text));
    }
}
