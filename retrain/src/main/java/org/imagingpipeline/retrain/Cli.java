package org.imagingpipeline.retrain;

import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * How retrain's picocli commands ({@code train}, {@code evaluate}, {@code adapt}, {@code bench adaptation},
 * {@link ShiftedCopy}) parse and answer, the same for each: exit 0 when done (also for {@code --help}, whose usage goes
 * to stdout), 2 for bad input with one line {@code NAME: error: REASON} on stderr and nothing on stdout, 1 for a
 * failure ({@code NAME: failed: ...} and the stack trace). Options take {@code --opt value} or {@code --opt=value};
 * a repeated option's last value counts (so a caller's default, such as the {@code --data} that {@code ./pipeline bench
 * adaptation} passes first, can be overridden); no {@code @file} expansion; numbers may carry surrounding blanks.
 */
final class Cli {

    /** What a command does once its options are parsed; returns the exit status. */
    interface Body {
        int run() throws Exception;
    }

    private Cli() {
    }

    static int run(String name, Object command, String[] argv, PrintStream out, PrintStream err, Body body) {
        try {
            CommandLine cl = commandLine(command);
            cl.parseArgs(argv);
            if (cl.isUsageHelpRequested()) {
                cl.usage(out);
                return 0;
            }
            return body.run();
        } catch (ParameterException e) {
            err.println(name + ": error: " + reason(e));
            return 2;
        } catch (DataException e) {
            err.println(name + ": error: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError e) {
            err.println(name + ": failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command).setOverwrittenOptionsAllowed(true).setExpandAtFiles(false);
        ITypeConverter<Integer> whole = s -> number(s, Integer::parseInt, "needs a whole number");
        ITypeConverter<Double> real = s -> number(s, Double::parseDouble, "needs a number");
        return cl.registerConverter(Integer.class, whole).registerConverter(int.class, whole)
                .registerConverter(Double.class, real).registerConverter(double.class, real);
    }

    private static <T> T number(String s, Function<String, T> parse, String what) {
        try {
            return parse.apply(s.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException(what + ", got '" + s + "'");
        }
    }

    /** picocli's complaint in the commands' own words ("option --x needs a value", "unknown option '--y'", ...). */
    static String reason(ParameterException e) {
        if (e instanceof MissingParameterException m && !m.getMissing().isEmpty()
                && m.getMissing().get(0) instanceof OptionSpec o) {
            return "option " + o.longestName() + " needs a value";
        }
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            return "unknown option '" + u.getUnmatched().get(0) + "'";
        }
        if (e.getCause() instanceof TypeConversionException t && e.getArgSpec() instanceof OptionSpec o) {
            return "option " + o.longestName() + " " + t.getMessage();
        }
        return e.getMessage();
    }

    /** {@code --help}, the same in every command. */
    static final class Help {
        @Option(names = "--help", usageHelp = true, description = "show this help and exit")
        boolean help;
    }

    /** The options of the commands that run DJL's training loops (train, adapt): its native-library cache, progress. */
    static final class DjlOptions {
        @Option(names = "--djl-cache", paramLabel = "DIR", description = "DJL native-library cache (default: -D"
                + DjlRuntime.CACHE_PROPERTY + ", else $DJL_CACHE_DIR, else target/djl-cache)")
        String cache;

        @Option(names = "--progress", paramLabel = "bar|json", description = "bar (default: a progress bar) or json (one"
                + " JSON line {\"progress\":{...}} per report on stderr, as the retraining service asks; schema in"
                + " docs/adaptation.md)")
        String progress = "bar";

        Path cache() {
            return cache == null ? DjlRuntime.defaultCacheDir() : Path.of(cache);
        }

        ProgressBar.Format progress() {
            return ProgressBar.Format.parse(progress);
        }
    }

    /**
     * A required option's value, checked when the command runs rather than by picocli, so that an unknown option is
     * named first and the checks come in each command's own order, as they always did; a blank value counts as missing.
     */
    static String required(String value, String option) {
        if (value == null || value.isBlank()) {
            throw new DataException("missing required option " + option);
        }
        return value;
    }

    /** A comma-separated option value, each entry trimmed; empty entries stay (the callers name them). */
    static List<String> list(String value, String option) {
        return Arrays.stream(required(value, option).split(",", -1)).map(String::trim).toList();
    }
}
