package io.statefunbootstrap.harness;

import io.statefunbootstrap.harness.Main.UsageException;

/** Tiny helper for walking a command line. */
final class Args {
  private final String[] args;
  private int pos;

  Args(String[] args) {
    this.args = args;
  }

  boolean hasNext() {
    return pos < args.length;
  }

  String next() {
    return args[pos++];
  }

  String value(String option) {
    if (pos >= args.length) {
      throw new UsageException(option + " needs a value");
    }
    return args[pos++];
  }

  int intValue(String option, int min) {
    String v = value(option);
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs an integer, got '" + v + "'");
    }
    if (n < min) {
      throw new UsageException(option + " must be >= " + min + ", got " + n);
    }
    return n;
  }
}
