// Interface text in Vietnamese (the default) and English. Camera names come from the
// config as they are (UTF-8). Elements with data-i18n="key" get their text from here.

const STRINGS = {
  vi: {
    "nav.wall": "Tường video",
    "nav.health": "Tình trạng camera",
    "nav.logout": "Đăng xuất",
    "language.other": "English",
    "login.title": "Đăng nhập phòng trực ban",
    "login.token": "Mã truy cập",
    "login.submit": "Đăng nhập",
    "login.hint": "Dùng cùng mã truy cập như ứng dụng gRPC (matthan token new).",
    "error.bad_token": "Mã truy cập không đúng hoặc đã bị thu hồi.",
    "error.rate_limited": "Quá nhiều lần thử. Vui lòng thử lại sau {seconds} giây.",
    "error.rate_limited_channel": "Camera đang phát quá nhiều kích thước hình.",
    "error.permission_denied": "Bạn không có quyền xem camera này.",
    "error.not_found": "Không tìm thấy camera.",
    "error.unavailable": "Camera hoặc hệ thống chưa phản hồi, đang thử lại…",
    "error.unauthenticated": "Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.",
    "error.generic": "Đã xảy ra lỗi: {message}",
    "wall.group_all": "Tất cả nhóm",
    "wall.group": "Nhóm",
    "wall.overlay": "Hiện khung nhận dạng",
    "wall.count": "{n} camera",
    "wall.empty": "Không có camera nào để hiển thị.",
    "state.live": "Trực tiếp",
    "state.connecting": "Đang kết nối",
    "state.reconnecting": "Đang kết nối lại",
    "state.stalled": "Mất tín hiệu",
    "state.unresponsive": "Không phản hồi",
    "state.failed": "Lỗi",
    "state.stopped": "Đã dừng",
    "state.pending": "Đang khởi động",
    "camera.back": "← Quay lại tường video",
    "camera.snapshot": "Tải ảnh chụp",
    "camera.status": "Thông tin camera",
    "field.camera": "Camera",
    "field.groups": "Nhóm",
    "field.state": "Trạng thái",
    "field.reason": "Lý do",
    "field.fps_in": "Khung hình vào (fps)",
    "field.fps_out": "Khung hình phân tích (fps)",
    "field.latency": "Độ trễ (ms)",
    "field.node": "Máy chủ (node)",
    "field.age": "Khung hình cuối (giây trước)",
    "field.mode": "Chế độ phân tích",
    "field.reconnects": "Số lần kết nối lại",
    "health.title": "Tình trạng camera",
    "connection.lost": "Mất kết nối tới máy chủ, đang kết nối lại…",
    "user.anonymous": "khách (không cần đăng nhập)",
    "role.viewer": "người xem",
    "role.operator": "điều hành viên",
    "role.admin": "quản trị viên",
  },
  en: {
    "nav.wall": "Video wall",
    "nav.health": "Camera health",
    "nav.logout": "Log out",
    "language.other": "Tiếng Việt",
    "login.title": "Duty room login",
    "login.token": "Access token",
    "login.submit": "Log in",
    "login.hint": "Use the same token as for gRPC clients (matthan token new).",
    "error.bad_token": "Unknown or revoked token.",
    "error.rate_limited": "Too many attempts. Try again in {seconds} s.",
    "error.rate_limited_channel": "The camera already streams too many picture sizes.",
    "error.permission_denied": "You may not see this camera.",
    "error.not_found": "Camera not found.",
    "error.unavailable": "The camera or the system is not answering yet; retrying…",
    "error.unauthenticated": "Your session has ended. Please log in again.",
    "error.generic": "Something went wrong: {message}",
    "wall.group_all": "All groups",
    "wall.group": "Group",
    "wall.overlay": "Show detection boxes",
    "wall.count": "{n} cameras",
    "wall.empty": "No cameras to show.",
    "state.live": "Live",
    "state.connecting": "Connecting",
    "state.reconnecting": "Reconnecting",
    "state.stalled": "Stalled",
    "state.unresponsive": "Unresponsive",
    "state.failed": "Failed",
    "state.stopped": "Stopped",
    "state.pending": "Starting",
    "camera.back": "← Back to the wall",
    "camera.snapshot": "Download snapshot",
    "camera.status": "Camera details",
    "field.camera": "Camera",
    "field.groups": "Groups",
    "field.state": "State",
    "field.reason": "Reason",
    "field.fps_in": "Frames in (fps)",
    "field.fps_out": "Frames analysed (fps)",
    "field.latency": "Latency (ms)",
    "field.node": "Node",
    "field.age": "Last frame (s ago)",
    "field.mode": "Analysis mode",
    "field.reconnects": "Reconnects",
    "health.title": "Camera health",
    "connection.lost": "Connection to the server lost; reconnecting…",
    "user.anonymous": "guest (no login needed)",
    "role.viewer": "viewer",
    "role.operator": "operator",
    "role.admin": "admin",
  },
};

export const LANGUAGES = Object.keys(STRINGS);
let current = "vi";

export function setLanguage(language) {
  current = STRINGS[language] ? language : "vi";
  document.documentElement.lang = current;
  translate(document);
}

export function language() {
  return current;
}

export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function translate(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function stateLabel(state) {
  return STRINGS[current][`state.${state}`] ? t(`state.${state}`) : state;
}
