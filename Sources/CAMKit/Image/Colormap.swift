/// Colour maps for heatmaps.
public enum Colormap {
    /// OpenCV's `COLORMAP_JET` as RGB, entry for entry (index 0 dark blue, 255 dark red):
    /// `cv2.applyColorMap(i, COLORMAP_JET)` with BGR turned to RGB. Each channel is a
    /// clamped tent of slope 4 levels per index; OpenCV's float interpolation makes blue at
    /// index 159 one level lower than the tent (1, not 2), kept here.
    public static let jet: [(r: UInt8, g: UInt8, b: UInt8)] = (0..<256).map { i in
        func tent(_ up: Int, _ down: Int) -> UInt8 {
            UInt8(max(0, min(255, min(4 * i + up, down - 4 * i))))
        }
        let b = i == 159 ? 1 : tent(128, 638)
        return (tent(-382, 1148), tent(-128, 892), b)
    }
}
