package io.statefunbootstrap.flinkcommon;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Prints an exception's causal chain to stderr in a compact, readable form: the chain one line per
 * cause and the root's top frames, or the whole stack trace when the environment variable named by
 * {@link #setVerboseVariable} is set (and not "0").
 */
public final class Failures {

  private static volatile String verboseVariable = "FLINK_TESTS_VERBOSE";

  private Failures() {}

  /** Which environment variable asks for full stack traces (each launcher documents its own). */
  public static void setVerboseVariable(String name) {
    verboseVariable = name;
  }

  static boolean verbose() {
    String v = System.getenv(verboseVariable);
    return v != null && !v.isEmpty() && !v.equals("0");
  }

  public static void report(String headline, Throwable t) {
    System.err.println(headline + ": " + describe(t));
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    Throwable cur = t;
    Throwable root = t;
    int depth = 0;
    while (cur != null && !seen.containsKey(cur)) {
      seen.put(cur, true);
      if (depth > 0) {
        System.err.println("  caused by: " + describe(cur));
      }
      root = cur;
      cur = cur.getCause();
      depth++;
    }
    if (verbose()) {
      System.err.println("---- stack trace (" + verboseVariable + ") ----");
      t.printStackTrace(System.err);
    } else {
      StackTraceElement[] st = root.getStackTrace();
      for (int i = 0; i < Math.min(6, st.length); i++) {
        System.err.println("      at " + st[i]);
      }
      if (st.length > 6) {
        System.err.println("      ... (set " + verboseVariable + "=1 for full stack traces)");
      }
    }
  }

  public static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getName() + (m == null ? "" : ": " + m);
  }

  /** The innermost cause, for one-line messages. */
  public static Throwable root(Throwable t) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    while (t.getCause() != null && !seen.containsKey(t.getCause())) {
      seen.put(t, true);
      t = t.getCause();
    }
    return t;
  }
}
