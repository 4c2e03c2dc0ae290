package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"zhucun/domain"
)

// Messenger sends mini-program subscribe messages (subscribeMessage.send)
// with an access token from the stable_token API, cached until shortly
// before it expires and fetched again, forced, when WeChat says it is
// invalid.
type Messenger struct {
	AppID, Secret string
	Base          string
	HTTP          *http.Client
	// State is the mini-program version a message opens: formal, trial or developer.
	State string
	Now   func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ domain.Messenger = (*Messenger)(nil)

// tokenMargin is how long before its expiry a token is fetched again.
const tokenMargin = 5 * time.Minute

type wxAnswer struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

func (m *Messenger) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// post sends a JSON body and decodes WeChat's answer.
func (m *Messenger) post(ctx context.Context, path string, q url.Values, body any) (wxAnswer, error) {
	base := m.Base
	if base == "" {
		base = DefaultBase
	}
	hc := m.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return wxAnswer{}, fmt.Errorf("wechat: %w", err)
	}
	u := strings.TrimSuffix(base, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return wxAnswer{}, fmt.Errorf("wechat: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return wxAnswer{}, fmt.Errorf("wechat: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return wxAnswer{}, fmt.Errorf("wechat: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return wxAnswer{}, fmt.Errorf("wechat: HTTP %d", resp.StatusCode)
	}
	var a wxAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return wxAnswer{}, fmt.Errorf("wechat: decode answer: %w", err)
	}
	return a, nil
}

// accessToken returns the cached token, or fetches one (force: even if
// the cached one has not expired, because WeChat refused it).
func (m *Messenger) accessToken(ctx context.Context, force bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !force && m.token != "" && m.now().Before(m.expires) {
		return m.token, nil
	}
	a, err := m.post(ctx, "/cgi-bin/stable_token", nil, map[string]any{
		"grant_type": "client_credential", "appid": m.AppID, "secret": m.Secret, "force_refresh": force})
	if err != nil {
		return "", err
	}
	if a.ErrCode != 0 || a.AccessToken == "" {
		return "", fmt.Errorf("wechat: stable_token errcode %d: %s", a.ErrCode, a.ErrMsg)
	}
	m.token = a.AccessToken
	m.expires = m.now().Add(time.Duration(a.ExpiresIn)*time.Second - tokenMargin)
	return m.token, nil
}

// Errors of subscribeMessage.send: an expired or invalid token is fetched
// again and the message sent once more; 43101 (the user has not
// subscribed, or used the grant) is domain.ErrPushRefused; a bad template,
// openid or data is domain.ErrPushRejected; anything else (-1 system busy,
// 45009 limits, transport) may be retried.
var (
	tokenCodes    = map[int]bool{40001: true, 40014: true, 42001: true}
	rejectedCodes = map[int]bool{40003: true, 40037: true, 47003: true, 41030: true}
)

// SendSubscribe sends one subscribe message.
func (m *Messenger) SendSubscribe(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	values := map[string]map[string]string{}
	for k, v := range data {
		values[k] = map[string]string{"value": v}
	}
	state := m.State
	if state == "" {
		state = "formal"
	}
	body := map[string]any{"touser": openID, "template_id": templateID, "page": page, "data": values,
		"miniprogram_state": state, "lang": "zh_CN"}
	for attempt := 0; ; attempt++ {
		tok, err := m.accessToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		a, err := m.post(ctx, "/cgi-bin/message/subscribe/send", url.Values{"access_token": {tok}}, body)
		if err != nil {
			return err
		}
		switch {
		case a.ErrCode == 0:
			return nil
		case tokenCodes[a.ErrCode] && attempt == 0:
			continue
		case a.ErrCode == 43101:
			return fmt.Errorf("%w: %d %s", domain.ErrPushRefused, a.ErrCode, a.ErrMsg)
		case rejectedCodes[a.ErrCode]:
			return fmt.Errorf("%w: %d %s", domain.ErrPushRejected, a.ErrCode, a.ErrMsg)
		}
		return fmt.Errorf("wechat: subscribe send errcode %d: %s", a.ErrCode, a.ErrMsg)
	}
}
