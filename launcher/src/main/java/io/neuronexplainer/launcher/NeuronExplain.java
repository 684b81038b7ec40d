package io.neuronexplainer.launcher;

import io.neuronexplainer.launcher.demo.DemoCommand;
import io.neuronexplainer.runtime.CliCommand;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code neuron-explain} command: every service and tool of the project as a subcommand. */
@Command(name = "neuron-explain", mixinStandardHelpOptions = true, version = "neuron-explain 0.1.0",
        description = "Explains what the neurons of a GPT-2-style language model do, as a streaming system on Kafka.",
        subcommands = {DemoCommand.class, BrokerCommand.class, TopicsCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public class NeuronExplain {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command tree, with every module's contributed commands added. */
    public static CommandLine commandLine() {
        CommandLine root = new CommandLine(new NeuronExplain());
        for (CliCommand command : ServiceLoader.load(CliCommand.class)) {
            CommandLine parent = command.parent() == null ? root : root.getSubcommands().get(command.parent());
            if (parent == null) {
                throw new IllegalStateException(command.getClass().getName() + " names unknown parent " + command.parent());
            }
            parent.addSubcommand(command);
        }
        root.setCaseInsensitiveEnumValuesAllowed(true);
        return root;
    }
}
