package io.layerswarm.daemon.keys;

import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm keys}: create and inspect identity key files (raw libp2p {@code PrivateKey}
 * protobuf, mode 0600) and private-network swarm keys ({@code /key/swarm/psk/1.0.0/}).
 */
@Command(name = "keys", description = "Create or inspect libp2p identity keys and private-network swarm keys.",
        subcommands = {KeysCommand.Identity.class, KeysCommand.NewSwarmKey.class})
public final class KeysCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Prints the peer id of an identity key file, creating the file (Ed25519) if it is missing. */
    @Command(name = "identity", description = "Print the peer id of an identity key file; creates it if missing.")
    static final class Identity implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--key", required = true, description = "identity key file")
        Path key;

        @Option(names = "--cid", description = "print the CIDv1 (base32) form instead of base58")
        boolean cid;

        @Override
        public Integer call() throws IOException {
            PrivateKey k = KeyFiles.loadOrGenerate(key);
            PeerId id = k.peerId();
            PrintWriter out = spec.commandLine().getOut();
            out.println(cid ? id.toCidString() : id.toBase58());
            out.flush();
            return 0;
        }
    }

    /** Writes a fresh swarm key; refuses to overwrite an existing file. */
    @Command(name = "new-swarm-key", description = "Write a new private-network swarm key (never overwrites).")
    static final class NewSwarmKey implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, description = "swarm key file to create")
        Path out;

        @Override
        public Integer call() throws IOException {
            SwarmKey k = SwarmKey.generate();
            try {
                k.writeNew(out);
            } catch (FileAlreadyExistsException e) {
                spec.commandLine().getErr().println("refusing to overwrite existing " + out);
                return 1;
            }
            spec.commandLine().getOut().println("swarm key " + k.fingerprint() + " written to " + out);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
