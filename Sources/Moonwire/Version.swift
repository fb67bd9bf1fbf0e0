/// Moonwire's version (`moonwire --version`).
public enum MoonwireVersion {
    public static let current = "0.4.0"
}
