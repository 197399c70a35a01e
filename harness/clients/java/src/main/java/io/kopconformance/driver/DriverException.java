package io.kopconformance.driver;

/** A failure the driver itself detects, already carrying its canonical code (PROTOCOL.md). */
final class DriverException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final String code;

  DriverException(String code, String message) {
    super(message);
    this.code = code;
  }
}
