package io.layerswarm.libp2p.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {

    @TempDir
    Path dir;

    @Test
    void generateWriteReadKeepsIdentityWithOwnerOnlyPerms() throws IOException {
        Path f = dir.resolve("sub/identity.key");
        PrivateKey k = KeyFiles.loadOrGenerate(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertArrayEquals(k.marshal(), Files.readAllBytes(f));
        PrivateKey again = KeyFiles.loadOrGenerate(f);
        assertEquals(k.peerId(), again.peerId());
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "no temp files left behind");
        }
        PrivateKey other = Ed25519PrivateKey.generate();
        KeyFiles.write(f, other);
        assertEquals(other.peerId(), KeyFiles.read(f).peerId());
    }

    @Test
    void secretFilesNeverOverwriteUnlessAsked() throws IOException {
        Path f = dir.resolve("s.key");
        SecretFiles.write(f, new byte[] {1}, false);
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> SecretFiles.write(f, new byte[] {2}, false));
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(f));
        SecretFiles.write(f, new byte[] {3}, true);
        assertArrayEquals(new byte[] {3}, Files.readAllBytes(f));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temp files left behind");
        }
    }

    @Test
    void corruptFilesFailClearly() throws IOException {
        Path f = dir.resolve("bad.key");
        Files.write(f, new byte[] {1, 2, 3});
        IOException e = assertThrows(IOException.class, () -> KeyFiles.read(f));
        assertTrue(e.getMessage().contains("not a libp2p PrivateKey"), e.getMessage());
        Files.write(f, new byte[100_000]);
        e = assertThrows(IOException.class, () -> KeyFiles.loadOrGenerate(f));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        assertEquals(100_000, Files.size(f), "a bad file is never overwritten");
    }
}
