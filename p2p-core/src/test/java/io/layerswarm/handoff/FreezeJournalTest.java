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
        final Map<String, TaskState> states = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        final List<String> failing = new ArrayList<>();
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
