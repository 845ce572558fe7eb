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
                io.layerswarm.daemon.handoff.HandoffCommand.class,
                io.layerswarm.daemon.p2p.P2pCommand.class,
                io.layerswarm.daemon.keys.KeysCommand.class,
                CacheSimCommand.class,
                TraceGenCommand.class,
                RefactorCommand.class,
                DeltaCommand.class,
                io.layerswarm.daemon.demo.DemoCommand.class,
                io.layerswarm.daemon.bench.FanOutBenchCommand.class,
                io.layerswarm.daemon.bench.DeadPeersBenchCommand.class,
                io.layerswarm.daemon.bench.LinkBenchCommand.class,
                io.layerswarm.daemon.k8s.PlacementSimCommand.class,
                io.layerswarm.daemon.k8s.SchedulerExtenderCommand.class,
                io.layerswarm.daemon.k8s.ScheduleCommand.class,
                io.layerswarm.daemon.k8s.PreheatCommand.class,
                io.layerswarm.daemon.bench.RateLimitBenchCommand.class,
        })
public final class Main implements Runnable {

    /** Runs the CLI and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status, for tests and embedding. */
    public static int run(String... args) {
        return new CommandLine(new Main()).setParameterExceptionHandler(Main::badArguments).execute(args);
    }

    /** Exit status for flags or arguments that do not parse. */
    public static final int BAD_ARGUMENTS = 2;

    /**
     * A flag that does not parse is one line on stderr naming it and pointing at the command's help,
     * instead of the whole usage text, so it stands out in a service log.
     */
    static int badArguments(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String where = cmd.getCommandSpec().qualifiedName();
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        cmd.getErr().println("error: " + msg.replaceAll("\\s+", " ").trim() + " (see '" + where + " --help')");
        cmd.getErr().flush();
        return BAD_ARGUMENTS;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
