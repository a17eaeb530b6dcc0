package io.statefunbootstrap.harness;

/**
 * One input line of {@code write}, parsed. A Flink POJO (public fields, no-arg constructor) so it
 * travels with Flink's PojoSerializer.
 */
public class BootstrapRecord {
  public String function;
  public String id;
  /** One of {@link HarnessBootstrapFunction#STATES}. */
  public String state;

  public long longValue;
  public double doubleValue;
  public boolean boolValue;
  public String stringValue;
  public byte[] bytesValue;

  public BootstrapRecord() {}
}
