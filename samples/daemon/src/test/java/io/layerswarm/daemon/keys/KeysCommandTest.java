package io.layerswarm.daemon.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KeysCommandTest {

    @TempDir
    Path dir;

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new KeysCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(new StringWriter()));
        int code = cl.execute(args);
        return code + ":" + out.toString().strip();
    }

    @Test
    void identityIsCreatedOnceAndStable() throws Exception {
        Path key = dir.resolve("id.key");
        String first = run("identity", "--key", key.toString());
        assertTrue(first.startsWith("0:12D3KooW"), first);
        assertEquals(first, run("identity", "--key", key.toString()));
        PeerId id = PeerId.parse(first.substring(2));
        assertEquals(id, KeyFiles.read(key).peerId());
        assertEquals(id, PeerId.parse(run("identity", "--key", key.toString(), "--cid").substring(2)));
    }

    @Test
    void swarmKeyIsWrittenParseableAndNeverOverwritten() throws Exception {
        Path f = dir.resolve("swarm.key");
        String r = run("new-swarm-key", "--out", f.toString());
        assertTrue(r.startsWith("0:swarm key "), r);
        SwarmKey k = SwarmKey.read(f);
        assertTrue(r.contains(k.fingerprint()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals("1:", run("new-swarm-key", "--out", f.toString()));
        assertEquals(k, SwarmKey.read(f), "existing key untouched");
    }
}
