package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture against the real containerd, runc and docker-registry: a corpus image is pulled through
 * {@code hosts.toml}, a container runs a command, and closing leaves no mount, daemon or shim behind.
 */
@Tag("root")
class ContainerdIT {
    @TempDir
    Path tmp;

    @Test
    void pullsACorpusImageRunsAContainerAndCleansUp() throws Exception {
        Containerd.requireAvailable();
        Corpus.Image clock = Corpus.small().images().stream().filter(i -> i.ref().equals("clock:2")).findFirst()
                .orElseThrow();
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            Corpus.small().pushTo(registry.baseUri().toString());
            Path dir = tmp.resolve("ctrd");
            Containerd c = Containerd.start(dir);
            long pid;
            try {
                pid = c.pid();
                c.mirror(registry.hostPort(), registry.baseUri(), List.of());
                String ref = registry.hostPort() + "/" + clock.ref();
                Containerd.Pull pull = c.pull(ref, Duration.ofMinutes(2));
                assertTrue(pull.fetched().isPresent(), "ctr printed its fetch time:\n" + pull.output());
                List<String> content = c.contentDigests();
                for (Corpus.Layer l : clock.layers()) {
                    assertTrue(content.contains(l.digest()), "layer " + l.digest() + " in containerd: " + content);
                }
                assertTrue(content.contains(clock.manifestDigest()), "manifest in containerd: " + content);

                String out = c.run(ref, Duration.ofMinutes(1), "/bin/sh", "-c",
                        "cat /etc/timezone /etc/clock.conf; echo sum=$((6*7)); id -u");
                assertEquals("Europe/Berlin\ninterval=10\nformat=iso\nsum=42\n0\n", out.replace("\r\n", "\n"));
                UncheckedIOException failed = assertThrows(UncheckedIOException.class,
                        () -> c.run(ref, Duration.ofMinutes(1), "/bin/sh", "-c", "exit 7"));
                assertTrue(failed.getMessage().contains("exit 7"), failed.getMessage());
                assertThrows(UncheckedIOException.class, () -> c.pull(registry.hostPort() + "/nope:1",
                        Duration.ofMinutes(1)));
            } finally {
                c.close();
            }
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "containerd stopped");
            assertEquals(List.of(), Containerd.mountPointsUnder(dir, Path.of("/proc/self/mountinfo")),
                    "nothing mounted under " + dir);
            String sock = c.socket().toString();
            assertTrue(ProcessHandle.allProcesses().noneMatch(h -> h.info().commandLine()
                    .map(l -> l.contains(sock)).orElse(false)), "no process serves " + sock);
            assertTrue(Files.isDirectory(dir.resolve("root")), "root was under the test's directory");
        }
    }
}
