package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.handoff.ContainerRuntime.TaskState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The source's freeze markers: written before the pause, and what a node start does with them. */
class FreezeJournalTest {
    @TempDir
    Path tmp;

    /** Task states in memory; records every call; fails calls listed in {@code failing}. */
    private static final class Tasks implements ContainerRuntime {
        // concurrent: a recovery waiting for an unreachable target acts from its own thread
        final Map<String, TaskState> states = new java.util.concurrent.ConcurrentHashMap<>();
        final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> failing = new java.util.concurrent.CopyOnWriteArrayList<>();
        Runnable onPause = () -> { };

        /** Records the call, fails it if listed, else moves the task to {@code next}. */
        private void act(String what, String id, TaskState next) throws IOException {
            calls.add(what + " " + id);
            if (failing.contains(what)) {
                throw new IOException(what + " failed");
            }
            states.put(id, next);
        }

        @Override
        public TaskState taskState(String id) {
            return states.getOrDefault(id, TaskState.NONE);
        }

        @Override
        public void pause(String id) throws IOException {
            onPause.run();
            act("pause", id, TaskState.PAUSED);
        }

        @Override
        public void resume(String id) throws IOException {
            act("resume", id, TaskState.RUNNING);
        }

        @Override
        public void stop(String id) throws IOException {
            act("stop", id, TaskState.NONE);
        }

        @Override
        public void start(String id) throws IOException {
            act("start", id, TaskState.RUNNING);
        }

        @Override
        public ContainerConfig inspect(String id) {
            throw new AssertionError("not used");
        }

        @Override
        public WritableLayer writableLayer(String id) {
            throw new AssertionError("not used");
        }

        @Override
        public void pull(ImageRef image) {
            throw new AssertionError("not used");
        }

        @Override
        public void create(ContainerConfig config) {
            throw new AssertionError("not used");
        }

        @Override
        public void remove(String id) {
            throw new AssertionError("not used");
        }
    }

    private static Tasks with(String container, TaskState state) {
        Tasks t = new Tasks();
        t.states.put(container, state);
        return t;
    }

    private FreezeJournal journal(Tasks tasks) {
        return new FreezeJournal(tmp.resolve("frozen"), tasks);
    }

    private Path marker(String container) {
        return tmp.resolve("frozen").resolve(container + ".frozen");
    }

    @Test
    void theMarkIsOnDiskBeforeThePauseAndACrashedFreezeIsThawedAtTheNextStart() throws IOException {
        Tasks tasks = with("web", TaskState.RUNNING);
        tasks.onPause = () -> assertTrue(Files.isRegularFile(marker("web")), "marked before the pause");
        journal(tasks).mark("web", "web-01", "12D3Koo"); // as SourceHandoff: before its rounds
        tasks.pause("web"); // the freeze, inside the downtime
        assertEquals(TaskState.PAUSED, tasks.taskState("web"));
        // the node dies here; the next start:
        List<FreezeJournal.Mark> done = journal(tasks).recover();
        assertEquals(List.of(new FreezeJournal.Mark("web", FreezeJournal.State.FROZEN, "web-01", "12D3Koo")), done);
        assertEquals(TaskState.RUNNING, tasks.taskState("web"));
        assertEquals(List.of("pause web", "resume web"), tasks.calls);
        assertFalse(Files.exists(marker("web")), "marker removed");
        assertEquals(List.of(), journal(tasks).recover(), "nothing left to do");
    }

    /** A frozen source whose target answers {@code outcome} to the recovery's resolve. */
    private Tasks frozenWithTargetSaying(FreezeJournal.Resolver resolver) throws IOException {
        Tasks tasks = with("web", TaskState.RUNNING);
        journal(tasks).mark("web", "web-01", "12D3Koo");
        tasks.pause("web");
        // the node dies here (the target may or may not have started the container); the next start:
        new FreezeJournal(tmp.resolve("frozen"), tasks, resolver, Duration.ofSeconds(30), Duration.ofMillis(20))
                .recover();
        return tasks;
    }

    private static void await(String what, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void aFrozenSourceWhoseTargetStartedTheContainerIsStoppedNotThawed() throws IOException {
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        Tasks tasks = frozenWithTargetSaying((target, session) -> {
            asked.add(target + " " + session);
            return HandoffTarget.Outcome.STARTED;
        });
        assertEquals(List.of("12D3Koo web-01"), asked);
        assertEquals(List.of("pause web", "stop web"), tasks.calls, "never thawed: the target runs it");
        assertFalse(Files.exists(marker("web")));
    }

    @Test
    void aFrozenSourceWhoseTargetAbortedOrNeverHeardOfTheSessionIsThawed() throws IOException {
        for (HandoffTarget.Outcome o : List.of(HandoffTarget.Outcome.ABORTED, HandoffTarget.Outcome.UNKNOWN)) {
            Tasks tasks = frozenWithTargetSaying((target, session) -> o);
            assertEquals(List.of("pause web", "resume web"), tasks.calls, o.name());
            assertFalse(Files.exists(marker("web")));
        }
    }

    @Test
    void anUnreachableTargetKeepsTheSourceFrozenUntilItAnswers() throws Exception {
        java.util.concurrent.atomic.AtomicInteger asks = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch reachable = new java.util.concurrent.CountDownLatch(1);
        Tasks tasks = frozenWithTargetSaying((target, session) -> {
            asks.incrementAndGet();
            if (reachable.getCount() > 0) {
                throw new IOException("cannot open /layerswarm/handoff/1.0.0");
            }
            return HandoffTarget.Outcome.STARTED;
        });
        await("asked again", () -> asks.get() >= 3);
        assertEquals(TaskState.PAUSED, tasks.taskState("web"), "not thawed while the target may run it");
        assertTrue(Files.exists(marker("web")), "the marker stays until it is settled");
        reachable.countDown();
        await("stopped once the target said it started", () -> tasks.taskState("web") == TaskState.NONE);
        assertEquals(List.of("pause web", "stop web"), tasks.calls);
    }

    @Test
    void aTargetUnreachableForLongerThanTheWaitIsGivenUpAndTheSourceThawed() throws Exception {
        Tasks tasks = with("web", TaskState.RUNNING);
        journal(tasks).mark("web", "web-01", "12D3Koo");
        tasks.pause("web");
        new FreezeJournal(tmp.resolve("frozen"), tasks, (t, s) -> {
            throw new IOException("unreachable");
        }, Duration.ofMillis(200), Duration.ofMillis(20)).recover();
        await("thawed after the wait", () -> tasks.taskState("web") == TaskState.RUNNING);
        assertEquals(List.of("pause web", "resume web"), tasks.calls);
        await("marker removed", () -> !Files.exists(marker("web")));
    }

    @Test
    void aMarkedTaskThatStillRunsWasNeverFrozenItsMarkerGoesAndTheTargetIsToldToAbort() throws IOException {
        Tasks tasks = with("web", TaskState.RUNNING);
        journal(tasks).mark("web", "web-01", "12D3Koo"); // crash during the rounds, before the pause
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        new FreezeJournal(tmp.resolve("frozen"), tasks, (t, s) -> {
            asked.add(s);
            throw new IOException("unreachable"); // no matter: the target never got a restore
        }, Duration.ofSeconds(30), Duration.ofMillis(20)).recover();
        assertEquals(List.of("web-01"), asked);
        assertEquals(List.of(), tasks.calls, "left running, nothing stopped");
        assertFalse(Files.exists(marker("web")));
    }

    @Test
    void aCommittedHandoffsSourceTaskIsStoppedNotThawed() throws IOException {
        Tasks tasks = with("web", TaskState.RUNNING);
        FreezeJournal j = journal(tasks);
        j.mark("web", "web-01", "12D3Koo");
        tasks.pause("web");
        j.committed("web", "web-01", "12D3Koo");
        journal(tasks).recover();
        assertEquals(List.of("pause web", "stop web"), tasks.calls);
        assertEquals(TaskState.NONE, tasks.taskState("web"));
        assertFalse(Files.exists(marker("web")));
    }

    @Test
    void aTaskThatCannotBeResumedStartsAfreshAndOneWithoutATaskIsStarted() throws IOException {
        Tasks tasks = with("a", TaskState.PAUSED);
        tasks.failing.add("resume");
        FreezeJournal j = journal(tasks);
        j.thaw("a");
        assertEquals(List.of("resume a", "stop a", "start a"), tasks.calls);
        tasks.calls.clear();
        j.thaw("b"); // no task at all (e.g. containerd lost it): started on its files
        assertEquals(List.of("start b"), tasks.calls);
        tasks.calls.clear();
        tasks.states.put("c", TaskState.RUNNING);
        j.thaw("c");
        assertEquals(List.of(), tasks.calls, "a running task is left alone");
    }

    @Test
    void aContainerThatCannotBeHandledKeepsItsMarkForTheNextStart() throws IOException {
        Tasks tasks = with("web", TaskState.RUNNING);
        journal(tasks).mark("web", "web-01", "12D3Koo"); // as SourceHandoff: before its rounds
        tasks.pause("web"); // the freeze, inside the downtime
        tasks.failing.addAll(List.of("resume", "start", "stop"));
        assertEquals(List.of(), journal(tasks).recover());
        assertTrue(Files.exists(marker("web")), "kept");
        tasks.failing.clear();
        assertEquals(1, journal(tasks).recover().size());
        assertEquals(TaskState.RUNNING, tasks.taskState("web"));
        assertFalse(Files.exists(marker("web")));
    }

    @Test
    void anUnreadableMarkCountsAsFrozen() throws IOException {
        Tasks tasks = with("web", TaskState.PAUSED);
        Files.createDirectories(tmp.resolve("frozen"));
        Files.write(marker("web"), new byte[] {0, (byte) 0xff, 17, '\n', '='});
        List<FreezeJournal.Mark> done = journal(tasks).recover();
        assertEquals(FreezeJournal.State.FROZEN, done.get(0).state());
        assertEquals(TaskState.RUNNING, tasks.taskState("web"));
        assertFalse(Files.exists(marker("web")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "garbage",
        "layerswarm-handoff-freeze 2\nstate=frozen\ncontainer=web\nsession=s\ntarget=t\n",
        "layerswarm-handoff-freeze 1\nstate=frozen\ncontainer=web\nsession=s\n",
        "layerswarm-handoff-freeze 1\nstate=thawed\ncontainer=web\nsession=s\ntarget=t\n",
        "layerswarm-handoff-freeze 1\nstate=frozen\ncontainer=other\nsession=s\ntarget=t\n",
        "layerswarm-handoff-freeze 1\nstate=frozen\nstate=committed\ncontainer=web\nsession=s\ntarget=t\n",
        "layerswarm-handoff-freeze 1\nstate=frozen\ncontainer=web\nsession=s\ntarget=t\nextra=1\n",
        "layerswarm-handoff-freeze 1\nstate\ncontainer=web\nsession=s\ntarget=t\n",
        "layerswarm-handoff-freeze 1\n=frozen\ncontainer=web\nsession=s\ntarget=t\n"})
    void garbageMarkersAreRefusedByTheParser(String text) {
        assertThrows(IOException.class, () -> FreezeJournal.parse(text, "web"));
    }

    @Test
    void aWrittenMarkerParsesBackAndIdsThatAreNoFileNamesAreRefused() throws IOException {
        Tasks tasks = new Tasks();
        FreezeJournal j = journal(tasks);
        j.committed("svc-12", "svc-12-ab", "12D3KooW");
        assertEquals(new FreezeJournal.Mark("svc-12", FreezeJournal.State.COMMITTED, "svc-12-ab", "12D3KooW"),
                FreezeJournal.parse(Files.readString(marker("svc-12"), StandardCharsets.UTF_8), "svc-12"));
        assertThrows(IOException.class, () -> j.mark("../x", "s", "t"));
        assertThrows(IOException.class, () -> j.mark("a/b", "s", "t"));
        assertFalse(Files.exists(tmp.resolve("frozen").resolve("..").resolve("x.frozen")), "nothing written outside");
    }
}
