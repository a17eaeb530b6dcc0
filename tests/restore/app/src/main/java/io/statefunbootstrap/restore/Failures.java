package io.statefunbootstrap.restore;

import java.util.IdentityHashMap;
import java.util.Map;

/** Prints an exception's causal chain to stderr in a compact, readable form. */
final class Failures {

  private Failures() {}

  static boolean verbose() {
    String v = System.getenv("RESTORE_VERBOSE");
    return v != null && !v.isEmpty() && !v.equals("0");
  }

  static void report(String headline, Throwable t) {
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
      System.err.println("---- stack trace (RESTORE_VERBOSE) ----");
      t.printStackTrace(System.err);
    } else {
      StackTraceElement[] st = root.getStackTrace();
      for (int i = 0; i < Math.min(6, st.length); i++) {
        System.err.println("      at " + st[i]);
      }
      if (st.length > 6) {
        System.err.println("      ... (set RESTORE_VERBOSE=1 for full stack traces)");
      }
    }
  }

  static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getName() + (m == null ? "" : ": " + m);
  }

  /** The innermost cause, for one-line messages. */
  static Throwable root(Throwable t) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    while (t.getCause() != null && !seen.containsKey(t.getCause())) {
      seen.put(t, true);
      t = t.getCause();
    }
    return t;
  }
}
