package io.layerswarm.daemon;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code layerswarm} executable jar. */
@Command(name = "layerswarm", mixinStandardHelpOptions = true, version = "layerswarm 0.1.0",
        description = "Peer-to-peer container layer distribution for edge clouds.",
        subcommands = {
                CommandLine.HelpCommand.class,
                PullCommand.class,
                io.layerswarm.daemon.node.NodeCommand.class,
                io.layerswarm.daemon.p2p.P2pCommand.class,
                io.layerswarm.daemon.keys.KeysCommand.class,
                CacheSimCommand.class,
                TraceGenCommand.class,
                RefactorCommand.class,
                DeltaCommand.class,
                io.layerswarm.daemon.demo.DemoCommand.class,
                io.layerswarm.daemon.bench.FanOutBenchCommand.class,
                io.layerswarm.daemon.bench.LinkBenchCommand.class,
        })
public final class Main implements Runnable {

    /** Runs the CLI and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status, for tests and embedding. */
    public static int run(String... args) {
        return new CommandLine(new Main()).execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
