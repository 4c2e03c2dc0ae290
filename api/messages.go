package api

import (
	"strings"

	"zhucun/domain"
)

// zhMessages translates each stable code's detail into Chinese, the
// default language. English details come from the domain's messages.
var zhMessages = map[string]string{
	"validation_failed":          "请求中有字段不符合要求",
	"import_invalid":             "导入文件中有不符合要求的行，未导入任何数据",
	"not_found":                  "记录不存在或不在您的权限范围内",
	"route_not_found":            "请求的接口不存在",
	"method_not_allowed":         "该接口不支持此请求方法",
	"body_too_large":             "请求体过大",
	"unsupported_media_type":     "不支持的内容类型，请使用 application/json",
	"malformed_json":             "请求体不是有效的 JSON",
	"bad_request":                "请求格式不正确",
	"internal_error":             "服务器内部错误，请稍后重试",
	"unavailable":                "后台服务暂时不可用，请稍后重试",
	"already_exists":             "记录已存在",
	"forbidden":                  "您的角色无权执行此操作",
	"unauthenticated":            "请先登录",
	"invalid_token":              "登录凭证无效或已过期，请重新登录",
	"invalid_credentials":        "手机号或密码错误",
	"too_many_attempts":          "登录失败次数过多，请稍后再试",
	"invalid_grant":              "刷新令牌无效或已过期，请重新登录",
	"refresh_token_reused":       "刷新令牌已被使用过，为安全起见该会话已注销，请重新登录",
	"wechat_unbound":             "该微信尚未绑定账号，请用手机号和密码绑定",
	"wechat_code_invalid":        "微信登录凭证无效，请重新调用 wx.login",
	"wechat_unavailable":         "微信服务暂时不可用，请稍后重试",
	"wechat_disabled":            "未配置微信登录",
	"wechat_already_bound":       "该微信已绑定其他账号",
	"invalid_ticket":             "凭证无效或已过期（微信绑定凭证或动态口令登录凭证），请重新登录",
	"invalid_query":              "查询参数不正确",
	"invalid_file":               "无法读取上传的文件",
	"photo_too_large":            "照片超过大小上限",
	"not_an_image":               "上传的内容不是 JPEG、PNG、WebP 或 HEIC 图片",
	"checksum_mismatch":          "上传的内容与声明的 sha256 不一致",
	"upload_missing":             "照片尚未上传，请先上传再确认完成",
	"direct_upload_unavailable":  "本服务器将照片存于本地磁盘，请用 POST /api/v1/photos（multipart）上传",
	"photo_pending":              "照片尚未上传完成",
	"no_thumbnail":               "该照片没有缩略图",
	"bad_signature":              "链接无效",
	"link_expired":               "链接已过期",
	"id_conflict":                "该 id 已被其他内容使用",
	"own_record":                 "不能审核自己填报的记录",
	"invalid_transition":         "当前状态下不能执行此操作",
	"version_mismatch":           "记录已被他人修改，请重新获取后再提交",
	"assessment_final":           "该考核已定稿，不能再修改",
	"half_year_not_approved":     "该半年尚未经组织部审核锁定，考核不能定稿",
	"deleted":                    "该记录已被删除",
	"nul_character":              "文本中不能含有空字符（\\u0000）",
	"password_change_required":   "请先修改密码：首次登录或密码已过期（POST /api/v1/me/password）",
	"second_factor_required":     "请输入动态口令完成登录；尚未绑定的，请先绑定动态口令（POST /api/v1/me/second-factor）",
	"second_factor_invalid":      "动态口令错误或已过期",
	"second_factor_reused":       "该动态口令已使用，请等待下一个",
	"second_factor_enrolled":     "已绑定动态口令；如需更换，请安全管理员先重置",
	"second_factor_not_enrolled": "请先发起动态口令绑定",
}

var zhFieldMessages = map[string]string{
	domain.FieldRequired: "为必填项",
	domain.FieldTooLong:  "过长",
	domain.FieldTooShort: "过短",
	domain.FieldInvalid:  "格式或取值不正确",
	domain.FieldUnknown:  "引用的记录不存在或不在您的权限范围内",
	domain.FieldTaken:    "已被占用",
	domain.FieldRange:    "超出允许范围",
}

// message returns the detail for a code in the chosen language.
func message(en bool, code, english string) string {
	if !en {
		if m, ok := zhMessages[code]; ok {
			if code == "forbidden" && english != "" && english != "your role may not do this" {
				// Which duty the caller lacks (the domain names it).
				m += "：" + english
			}
			return m
		}
	}
	return english
}

// fieldMessage returns one field's message in the chosen language.
func fieldMessage(en bool, field, code, english string) string {
	if en {
		return english
	}
	if m, ok := zhFieldMessages[code]; ok {
		m = field + m
		// Keep the English specifics (limits, the offending value) after the translation.
		if english != "" && !strings.HasSuffix(english, " is required") {
			m += "（" + english + "）"
		}
		return m
	}
	return english
}

func localizeFields(en bool, fs []domain.FieldError) []domain.FieldError {
	out := make([]domain.FieldError, len(fs))
	for i, f := range fs {
		f.Message = fieldMessage(en, f.Field, f.Code, f.Message)
		out[i] = f
	}
	return out
}
