// Package wechat talks to WeChat's server API for the mini-program: it
// signs users in through jscode2session (auth.code2Session) and sends
// subscribe messages (subscribe.go). The base URL is configurable so that
// tests, and deployments behind a proxy, can point it elsewhere.
package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zhucun/domain"
)

// DefaultBase is WeChat's API host.
const DefaultBase = "https://api.weixin.qq.com"

// Client calls jscode2session for one mini-program.
type Client struct {
	AppID, Secret string
	Base          string
	HTTP          *http.Client
	Timeout       time.Duration
}

var _ domain.WeChat = (*Client)(nil)

// sessionResp is jscode2session's answer; errcode is absent or 0 on success.
type sessionResp struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// Code2Session exchanges a wx.login code for the user's openid. Codes WeChat
// refuses (40029 invalid, 40163 used, 40226 risky user) are domain.ErrWeChatCode;
// anything else (-1 busy, 45011 rate limit, transport) is a plain error the
// caller may retry.
func (c *Client) Code2Session(ctx context.Context, code string) (string, error) {
	if c.AppID == "" || c.Secret == "" {
		return "", domain.ErrWeChatDisabled
	}
	base := c.Base
	if base == "" {
		base = DefaultBase
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	q := url.Values{"appid": {c.AppID}, "secret": {c.Secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("wechat: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("wechat: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("wechat: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wechat: HTTP %d", resp.StatusCode)
	}
	var r sessionResp
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("wechat: decode answer: %w", err)
	}
	switch r.ErrCode {
	case 0:
		if r.OpenID == "" {
			return "", fmt.Errorf("wechat: answer without openid")
		}
		return r.OpenID, nil
	case 40029, 40163, 40226:
		return "", fmt.Errorf("%w: %d %s", domain.ErrWeChatCode, r.ErrCode, r.ErrMsg)
	}
	return "", fmt.Errorf("wechat: errcode %d: %s", r.ErrCode, r.ErrMsg)
}
