package io.layerswarm.daemon.node;

import io.layerswarm.nat.ice.TurnServer;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The TURN flags shared by {@code layerswarm node} and {@code layerswarm p2p connect} (a picocli mixin). */
public final class TurnOptions {
    @Option(names = "--turn", paramLabel = "HOST:PORT", description = "TURN server (e.g. coturn) for relayed ICE"
            + " candidates: the path where hole punching fails; needs --turn-user and --turn-password-file.")
    String turn;

    @Option(names = "--turn-user", paramLabel = "USER", description = "user name on the --turn server.")
    String turnUser;

    @Option(names = "--turn-password-file", paramLabel = "FILE", description = "file holding the --turn-user's"
            + " password (one line).")
    Path turnPasswordFile;

    /** The TURN server the flags name (none without {@code --turn}); checked as the config file's keys are. */
    public List<TurnServer> servers() {
        return NodeConfig.turnServer(turn, turnUser, turnPasswordFile);
    }

    /** Overrides {@code c}'s TURN keys with the flags given. */
    void applyTo(NodeConfig c) {
        if (turn != null) {
            c.turn = turn;
        }
        if (turnUser != null) {
            c.turnUser = turnUser;
        }
        if (turnPasswordFile != null) {
            c.turnPasswordFile = turnPasswordFile;
        }
    }
}
