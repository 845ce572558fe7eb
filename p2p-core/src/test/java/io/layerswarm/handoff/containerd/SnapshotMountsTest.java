package io.layerswarm.handoff.containerd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.handoff.WritableLayer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The mount commands {@code ctr snapshots mounts} prints (containerd 1.6), and garbage. */
class SnapshotMountsTest {
    @Test
    void overlayGivesTheUpperDirectoryAndTheImageLayers() throws IOException {
        WritableLayer w = SnapshotMounts.parse("mount -t overlay overlay /tmp/x -o index=off,workdir=/r/snapshots/4/work,"
                + "upperdir=/r/snapshots/4/fs,lowerdir=/r/snapshots/3/fs:/r/snapshots/2/fs:/r/snapshots/1/fs\n");
        assertEquals(Path.of("/r/snapshots/4/fs"), w.dir());
        assertEquals(List.of(Path.of("/r/snapshots/3/fs"), Path.of("/r/snapshots/2/fs"), Path.of("/r/snapshots/1/fs")),
                w.imageDirs());
    }

    @Test
    void nativeBindMountIsTheWholeRootFileSystem() throws IOException {
        WritableLayer w = SnapshotMounts.parse("mount -t bind /r/native/snapshots/7 /tmp/x -o rbind,rw");
        assertEquals(Path.of("/r/native/snapshots/7"), w.dir());
        assertEquals(List.of(w.dir()), w.imageDirs());
    }

    @Test
    void garbageIsRefusedWithTheText() {
        for (String bad : List.of("", "ctr: snapshot c1 does not exist: not found",
                "mount -t overlay overlay /tmp/x -o lowerdir=/a:/b", // read-only view: no upper directory
                "mount -t overlay overlay /tmp/x -o upperdir=relative/fs,lowerdir=/a",
                "mount -t overlay overlay /tmp/x -o upperdir=/r/../../etc,lowerdir=/a",
                "mount -t bind relative /tmp/x -o rbind,rw",
                "mount -t tmpfs tmpfs /tmp/x -o rw",
                "mount -t bind /a /x -o rbind\nmount -t bind /b /y -o rbind",
                "umount -t bind /a /tmp/x -o rbind,rw")) {
            IOException e = assertThrows(IOException.class, () -> SnapshotMounts.parse(bad), bad);
            assertTrue(e.getMessage().length() > 10, e.getMessage());
        }
    }
}
