package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerdTest {
    @TempDir
    Path tmp;

    @Test
    void configKeepsEverythingUnderTheDirectory() {
        Path dir = Path.of("/tmp/x");
        String c = Containerd.config(dir, dir.resolve("containerd.sock"));
        assertTrue(c.contains("root = \"/tmp/x/root\"\n"), c);
        assertTrue(c.contains("state = \"/tmp/x/state\"\n"), c);
        assertTrue(c.contains("[grpc]\n  address = \"/tmp/x/containerd.sock\"\n"), c);
        assertTrue(c.contains("path = \"/tmp/x/opt\""), c);
        assertTrue(c.contains("io.containerd.grpc.v1.cri"), "no CRI plugin: " + c);
        assertThrows(IllegalArgumentException.class, () -> Containerd.config(Path.of("/tmp/a\"b"), Path.of("/s")));
    }

    @Test
    void aNetworkNamespaceIsEnteredWithNsenterNetOnly() {
        assertEquals(List.of(), Containerd.netnsPrefix(null));
        assertEquals(List.of("nsenter", "--net=/run/netns/lstb1-w0-1", "--"), Containerd.netnsPrefix("lstb1-w0-1"));
        assertThrows(IllegalArgumentException.class, () -> Containerd.netnsPrefix("../x"));
        assertThrows(IllegalArgumentException.class, () -> Containerd.netnsPrefix("a b"));
    }

    @Test
    void hostsTomlListsMirrorsBeforeTheServer() throws Exception {
        Path f = Containerd.hostsToml(tmp, "127.0.0.1:5000", URI.create("http://127.0.0.1:5000"),
                List.of(URI.create("http://127.0.0.1:6001/"), URI.create("http://127.0.0.1:6002")));
        assertEquals(tmp.resolve("127.0.0.1:5000/hosts.toml"), f);
        assertEquals("server = \"http://127.0.0.1:5000\"\n\n"
                + "[host.\"http://127.0.0.1:6001\"]\n  capabilities = [\"pull\", \"resolve\"]\n\n"
                + "[host.\"http://127.0.0.1:6002\"]\n  capabilities = [\"pull\", \"resolve\"]\n", Files.readString(f));
    }

    @Test
    void hostsTomlWithoutMirrorsNamesTheServerAsItsHost() throws Exception {
        Path f = Containerd.hostsToml(tmp, "reg.example:443", URI.create("https://reg.example"), List.of());
        assertEquals("server = \"https://reg.example\"\n\n"
                + "[host.\"https://reg.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n", Files.readString(f));
    }

    @Test
    void hostsTomlRejectsGarbage() {
        URI ok = URI.create("http://127.0.0.1:5000");
        assertThrows(IllegalArgumentException.class, () -> Containerd.hostsToml(tmp, "../etc", ok, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Containerd.hostsToml(tmp, "a/b", ok, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Containerd.hostsToml(tmp, "", ok, List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> Containerd.hostsToml(tmp, "r:5000", URI.create("ftp://x"), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> Containerd.hostsToml(tmp, "r:5000", ok, List.of(URI.create("http:///nohost"))));
        assertFalse(Files.exists(tmp.resolve("r:5000/hosts.toml")));
    }

    @Test
    void overlayfsOnlyWhenContainerdSaysOk() {
        String header = "TYPE                            ID                       PLATFORMS      STATUS    \n";
        assertTrue(Containerd.overlayfsUsable(header
                + "io.containerd.snapshotter.v1    overlayfs                linux/amd64    ok        \n"));
        assertFalse(Containerd.overlayfsUsable(header
                + "io.containerd.snapshotter.v1    overlayfs                linux/amd64    skip      \n"
                + "io.containerd.snapshotter.v1    native                   linux/amd64    ok        \n"));
        assertFalse(Containerd.overlayfsUsable(""));
        assertFalse(Containerd.overlayfsUsable("garbage\n\u0000ok overlayfs\n"));
    }

    @Test
    void fetchTimeIsTheLastElapsedBeforeUnpacking() {
        String out = "elapsed: 0.1 s  total: 0.0 B\nelapsed: 2.8 s  total: 40.5 M (14.5 MiB/s)\n"
                + "unpacking linux/amd64 sha256:4a09...\ndone: 32.5s\nelapsed: 9.9 s\n";
        assertEquals(Optional.of(Duration.ofMillis(2800)), Containerd.fetchTime(out));
        assertEquals(Optional.empty(), Containerd.fetchTime("ctr: failed to resolve reference\n"));
        assertEquals(Optional.empty(), Containerd.fetchTime(""));
    }

    @Test
    void mountPointsUnderTheDirectoryDeepestFirstWithEscapesDecoded() throws Exception {
        Path info = tmp.resolve("mountinfo");
        Files.writeString(info, String.join("\n",
                "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
                "90 22 0:50 / /tmp/c/root/snap/1 rw - overlay overlay rw,lowerdir=/a",
                "91 22 0:51 / /tmp/c/root/snap/1/fs/sub rw - tmpfs tmpfs rw",
                "92 22 0:52 / /tmp/c/with\\040space rw - tmpfs tmpfs rw",
                "93 22 0:53 / /tmp/cc/other rw - tmpfs tmpfs rw",
                "short line", ""));
        assertEquals(List.of("/tmp/c/root/snap/1/fs/sub", "/tmp/c/root/snap/1", "/tmp/c/with space"),
                Containerd.mountPointsUnder(Path.of("/tmp/c"), info));
    }

    @Test
    void unescapeLeavesIncompleteEscapesAlone() {
        assertEquals("a\\04", Containerd.unescapeMountinfo("a\\04"));
        assertEquals("a\\x12", Containerd.unescapeMountinfo("a\\x12"));
        assertEquals("a\tb", Containerd.unescapeMountinfo("a\\011b"));
    }
}
