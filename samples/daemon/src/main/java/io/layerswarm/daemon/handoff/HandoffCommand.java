package io.layerswarm.daemon.handoff;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm handoff prepare|run --container ID --target PEER [--control URL]}: asks the local
 * node's handoff control API to pre-sync a container's image to a peer, or to move the container there.
 * Prints the API's JSON (a stage, or the whole report) on stdout.
 */
@Command(name = "handoff", mixinStandardHelpOptions = true,
        description = "Move a running container to another node (through the local node's control API).",
        subcommands = {HandoffCommand.Prepare.class, HandoffCommand.Run.class})
public final class HandoffCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options and the call both subcommands share. */
    abstract static class Call implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--container", required = true, paramLabel = "ID", description = "container id (containerd).")
        String container;

        @Option(names = "--target", required = true, paramLabel = "PEER", description = "peer id of the target node.")
        String target;

        @Option(names = "--control", paramLabel = "URL", description = "the local node's handoff control API, as the"
                + " node prints it ('handoff-control URL'; default http://127.0.0.1:5081).")
        URI control = URI.create("http://127.0.0.1:5081");

        @Option(names = "--timeout-s", paramLabel = "S", description = "longest wait for the answer (default 600).")
        long timeoutSeconds = 600;

        abstract String endpoint();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            URI uri = control.resolve("/v1/handoff/" + endpoint() + "?container=" + enc(container) + "&target="
                    + enc(target));
            try {
                HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build().send(
                        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(timeoutSeconds))
                                .POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    err.println("error: handoff " + endpoint() + " failed (" + r.statusCode() + "): " + r.body());
                    err.flush();
                    return 1;
                }
                out.println(r.body());
                out.flush();
                return 0;
            } catch (IOException e) {
                err.println("error: cannot reach the node's handoff control API at " + control + ": " + e.getMessage());
                err.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }

        private static String enc(String s) {
            return URLEncoder.encode(s, StandardCharsets.UTF_8);
        }
    }

    /** {@code handoff prepare}. */
    @Command(name = "prepare", mixinStandardHelpOptions = true,
            description = "Have the target pre-sync the container's image layers from the swarm.")
    static final class Prepare extends Call {
        @Override
        String endpoint() {
            return "prepare";
        }
    }

    /** {@code handoff run}. */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Move the container: rounds while it runs, stop, final diff, start on the target;"
                    + " prints the JSON report.")
    static final class Run extends Call {
        @Override
        String endpoint() {
            return "run";
        }
    }
}
