package domain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Reminders that reach people: an inbox per account, filled by rules. A
// rule tells a person once per item and day at most, never between 22:00
// and 07:00 campaign time (a notice made then is delivered at 07:00), and
// stops when the item is dealt with (a notice not delivered yet is dropped;
// the daily rules find nothing to say). Where the account is bound to
// WeChat and has accepted the rule's subscribe message, the notice also
// goes out as one.

// Notification rules.
const (
	RuleRecordReturned  = "record_returned"  // a record of yours was returned
	RuleTargetDue       = "target_due"       // a target of your village is due within 3 days and not done
	RuleTargetOverdue   = "target_overdue"   // … or overdue
	RuleLeaveDecided    = "leave_decided"    // your leave was approved or refused
	RulePeriodSubmitted = "period_submitted" // a period of your village is submitted: about to be locked
	RulePeriodLocked    = "period_locked"    // a period of your village is approved and locked
	RuleReviewWaiting   = "review_waiting"   // records wait for your review (one summary a day)
)

// NotificationRules lists the rules.
var NotificationRules = []string{RuleRecordReturned, RuleTargetDue, RuleTargetOverdue, RuleLeaveDecided,
	RulePeriodSubmitted, RulePeriodLocked, RuleReviewWaiting}

// Quiet hours in campaign time: nothing is delivered from 22:00 to 07:00.
const (
	quietFrom = 22
	quietTo   = 7
	// dueSoon is how close a target's due date makes it worth a reminder.
	dueSoonDays = 3
)

// Push states of a notification's subscribe message.
const (
	PushNone         = ""             // no push: no messenger, or no template for the rule
	PushPending      = "pending"      // to send from DeliverAt
	PushSent         = "sent"         // WeChat took it
	PushUnbound      = "unbound"      // the account is not bound to WeChat
	PushUnsubscribed = "unsubscribed" // the account has not accepted the rule's message
	PushRefused      = "refused"      // WeChat says the user has not subscribed (43101): not retried
	PushFailed       = "failed"       // WeChat refused it for good, or it kept failing
	PushDropped      = "dropped"      // the item was dealt with before it went out
)

// Notification is one notice in an account's inbox.
type Notification struct {
	ID     string // time-ordered
	Key    string // user|rule|item|day: one notice per item and day
	UserID string
	Rule   string
	Item   string // what it is about: a record's, target's or leave's id, a period's key; "" for a summary
	Title  string
	Body   string
	Data   map[string]string // ids a client opens the item with
	Day    string            // the campaign day it is delivered on
	// DeliverAt is when it shows in the inbox (and may be pushed): never in quiet hours.
	DeliverAt time.Time
	CreatedAt time.Time
	ReadAt    *time.Time
	Push      string
	PushTries int
	PushNext  time.Time
	PushError string
}

// NotificationStore keeps inboxes and subscribe-message grants.
type NotificationStore interface {
	// AddNotification stores n unless one with its Key exists (false then).
	AddNotification(ctx context.Context, n Notification) (bool, error)
	// Notifications lists a user's notices delivered by now, newest first,
	// after the page's cursor (an id); unread narrows to those not read.
	Notifications(ctx context.Context, userID string, now time.Time, unread bool, p Page) (List[Notification], error)
	// UnreadCount counts a user's delivered notices not read.
	UnreadCount(ctx context.Context, userID string, now time.Time) (int64, error)
	// MarkRead marks a user's delivered notices read (ids nil: all) and
	// says how many it marked.
	MarkRead(ctx context.Context, userID string, ids []string, at, now time.Time) (int64, error)
	// DropQueued removes a rule's notices of an item not delivered by now,
	// and stops the pushes of those delivered.
	DropQueued(ctx context.Context, rule, item string, now time.Time) error
	// DuePushes lists notices whose push is pending and due by now.
	DuePushes(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// SetPush stores a notice's push state.
	SetPush(ctx context.Context, n Notification) error
	// AddGrants adds one grant per template the user accepted (一次性订阅).
	AddGrants(ctx context.Context, userID string, templateIDs []string) error
	// UseGrant takes one of a user's grants of a template; false if none is left.
	UseGrant(ctx context.Context, userID, templateID string) (bool, error)
	// ClearGrants forgets a user's grants of a template.
	ClearGrants(ctx context.Context, userID, templateID string) error
	// Grants are a user's grants left per template.
	Grants(ctx context.Context, userID string) (map[string]int, error)
	// WeChatOpenID is the openid bound to an account, or ErrNotFound.
	WeChatOpenID(ctx context.Context, userID string) (string, error)
}

// Messenger sends WeChat mini-program subscribe messages.
type Messenger interface {
	// SendSubscribe sends one message. ErrPushRefused: the user has not
	// subscribed; ErrPushRejected: WeChat will never take this message
	// (template, openid or data); any other error may be retried.
	SendSubscribe(ctx context.Context, openID, templateID, page string, data map[string]string) error
}

// Push errors a Messenger returns.
var (
	ErrPushRefused  = errors.New("the user has not subscribed to this message")
	ErrPushRejected = errors.New("wechat refused the message for good")
)

// Notice is what a rule has to say, to accounts and to the members of villages.
type Notice struct {
	UserIDs    []string
	VillageIDs []string // their cadres and team leaders too
	Rule       string
	Item       string
	Title      string
	Body       string
	Data       map[string]string
}

// Notifier is what the other services tell: a notice, or an item dealt with.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
	Settled(ctx context.Context, rule, item string)
}

// notify tells n when a notifier is set.
func notify(ctx context.Context, to Notifier, n Notice) {
	if to != nil {
		to.Notify(ctx, n)
	}
}

// settled says an item is dealt with when a notifier is set.
func settled(ctx context.Context, to Notifier, rule, item string) {
	if to != nil {
		to.Settled(ctx, rule, item)
	}
}

// NotifyService fills the inboxes and sends the subscribe messages.
type NotifyService struct {
	Store   NotificationStore
	Users   UserStore
	Org     OrgStore
	Ledger  LedgerSource
	Records RecordStore
	Teams   TeamStore // nil: only the accounts assigned to a village are its members
	// Messenger, when set, sends the notices of rules with a template.
	Messenger Messenger
	Templates map[string]string // rule → WeChat template id
	Page      string            // the mini-program page a message opens
	Now       Clock
	Loc       *time.Location
	// OnError hears what a notice could not do (the write it follows stands).
	OnError func(error)
	Daily   *DailyMark
}

// DailyMark remembers the campaign day the daily rules last ran in this
// process (a restart runs them again; the keys keep that from telling twice).
type DailyMark struct {
	mu  sync.Mutex
	day string
}

// DeliverAt is when a notice made at t is delivered: at once, or at 07:00
// campaign time after quiet hours.
func DeliverAt(t time.Time, loc *time.Location) time.Time {
	l := t.In(zoneOr(loc))
	switch h := l.Hour(); {
	case h >= quietFrom:
		d := l.AddDate(0, 0, 1)
		return time.Date(d.Year(), d.Month(), d.Day(), quietTo, 0, 0, 0, l.Location())
	case h < quietTo:
		return time.Date(l.Year(), l.Month(), l.Day(), quietTo, 0, 0, 0, l.Location())
	}
	return t
}

func (s NotifyService) fail(err error) {
	if err != nil && s.OnError != nil {
		s.OnError(err)
	}
}

// Notify puts a notice in the inboxes of its accounts and of its villages'
// members (never twice a day for one item); errors go to OnError.
func (s NotifyService) Notify(ctx context.Context, n Notice) {
	s.fail(s.notify(ctx, n))
}

func (s NotifyService) notify(ctx context.Context, n Notice) error {
	to := slices.Clone(n.UserIDs)
	if len(n.VillageIDs) > 0 {
		members, err := s.members(ctx, n.VillageIDs)
		if err != nil {
			return err
		}
		to = append(to, members...)
	}
	slices.Sort(to)
	now := s.Now()
	at := DeliverAt(now, s.Loc)
	day := Today(at, zoneOr(s.Loc))
	push := PushNone
	if s.Messenger != nil && s.Templates[n.Rule] != "" {
		push = PushPending
	}
	for _, u := range slices.Compact(to) {
		if u == "" {
			continue
		}
		nt := Notification{ID: NewID(now), Key: u + "|" + n.Rule + "|" + n.Item + "|" + day, UserID: u, Rule: n.Rule, Item: n.Item,
			Title: n.Title, Body: n.Body, Data: n.Data, Day: day, DeliverAt: at, CreatedAt: now, Push: push, PushNext: at}
		if _, err := s.Store.AddNotification(ctx, nt); err != nil {
			return fmt.Errorf("notify %s: %w", n.Rule, err)
		}
	}
	return nil
}

// Settled drops a rule's notices of an item not delivered yet.
func (s NotifyService) Settled(ctx context.Context, rule, item string) {
	if err := s.Store.DropQueued(ctx, rule, item, s.Now()); err != nil {
		s.fail(fmt.Errorf("settle %s: %w", rule, err))
	}
}

// members are the accounts assigned to any of the villages, and the people
// of their teams.
func (s NotifyService) members(ctx context.Context, villageIDs []string) ([]string, error) {
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("village members: %w", err)
	}
	var out []string
	for _, u := range slices.Sorted(maps.Keys(snap.CadreVillages)) {
		if slices.ContainsFunc(snap.CadreVillages[u], func(v string) bool { return slices.Contains(villageIDs, v) }) {
			out = append(out, u)
		}
	}
	if s.Teams == nil {
		return out, nil
	}
	for _, v := range villageIDs {
		teams, err := AllPages(func(p Page) (List[Team], error) {
			return s.Teams.ListTeams(ctx, TeamFilter{Scope: Scope{All: true}, VillageID: v}, p)
		})
		if err != nil {
			return nil, fmt.Errorf("village members: %w", err)
		}
		for _, t := range teams {
			out = append(out, t.People()...)
		}
	}
	return out, nil
}

// Tick runs the daily rules once a campaign day from 07:00, then sends the
// pushes that are due. The server calls it every half minute.
func (s NotifyService) Tick(ctx context.Context) error {
	now := s.Now()
	local := now.In(zoneOr(s.Loc))
	today := Today(now, zoneOr(s.Loc))
	if s.Daily != nil && local.Hour() >= quietTo && local.Hour() < quietFrom {
		s.Daily.mu.Lock()
		due := s.Daily.day != today
		s.Daily.mu.Unlock()
		if due {
			if err := s.daily(ctx, today); err != nil {
				return err
			}
			s.Daily.mu.Lock()
			s.Daily.day = today
			s.Daily.mu.Unlock()
		}
	}
	return s.pushDue(ctx)
}

// daily runs the rules that look at the campaign each day: targets due or
// overdue, and the records waiting for each reviewer.
func (s NotifyService) daily(ctx context.Context, today string) error {
	snap, err := s.Ledger.LedgerSnapshot(ctx)
	if err != nil {
		return fmt.Errorf("daily reminders: %w", err)
	}
	t, _ := time.Parse(DateLayout, today)
	soon := t.AddDate(0, 0, dueSoonDays).Format(DateLayout)
	latest := latestProgress(snap.Progress, today)
	for _, tg := range snap.Targets {
		if tg.Due == "" || latest[tg.ID].Percent >= 100 || tg.Due > soon {
			continue
		}
		n := Notice{VillageIDs: []string{tg.VillageID}, Item: tg.ID, Data: map[string]string{"targetId": tg.ID, "villageId": tg.VillageID}}
		if tg.Due < today {
			n.Rule, n.Title, n.Body = RuleTargetOverdue, "目标任务已逾期", fmt.Sprintf("「%s」应于%s完成，尚未完成", tg.Title, tg.Due)
		} else {
			n.Rule, n.Title, n.Body = RuleTargetDue, "目标任务即将到期", fmt.Sprintf("「%s」将于%s到期，尚未完成", tg.Title, tg.Due)
		}
		if err := s.notify(ctx, n); err != nil {
			return err
		}
	}
	return s.reviewSummaries(ctx)
}

// reviewSummaries tells each team leader and town admin, once a day, how
// many records wait for their review.
func (s NotifyService) reviewSummaries(ctx context.Context) error {
	for _, role := range []Role{RoleTeamLeader, RoleTownAdmin} {
		users, err := AllPages(func(p Page) (List[User], error) {
			return s.Users.ListUsers(ctx, UserFilter{Scope: Scope{All: true}, Role: role}, p)
		})
		if err != nil {
			return fmt.Errorf("review reminders: %w", err)
		}
		for _, u := range users {
			villages := slices.Clone(u.VillageIDs)
			if s.Teams != nil && role == RoleTeamLeader {
				vs, _, err := teamVillages(ctx, s.Teams, u.ID)
				if err != nil {
					return fmt.Errorf("review reminders: %w", err)
				}
				for _, v := range vs {
					if !slices.Contains(villages, v) {
						villages = append(villages, v)
					}
				}
			}
			if role == RoleTownAdmin {
				if len(u.TownIDs) == 0 {
					continue
				}
				vs, err := AllPages(func(p Page) (List[Village], error) {
					return s.Org.ListVillages(ctx, VillageFilter{Scope: Scope{All: true}, TownID: u.TownIDs[0]}, p)
				})
				if err != nil {
					return fmt.Errorf("review reminders: %w", err)
				}
				villages = nil
				for _, v := range vs {
					villages = append(villages, v.ID)
				}
			}
			if len(villages) == 0 {
				continue
			}
			n, err := s.Records.CountReview(ctx, villages, ReviewSubmitted)
			if err != nil {
				return fmt.Errorf("review reminders: %w", err)
			}
			if n == 0 {
				continue
			}
			if err := s.notify(ctx, Notice{UserIDs: []string{u.ID}, Rule: RuleReviewWaiting, Title: "待审核记录",
				Body: fmt.Sprintf("您负责的村有%d条记录待审核", n), Data: map[string]string{"count": fmt.Sprint(n)}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Push retries: at most maxPushTries, backing off from a minute to an hour.
const maxPushTries = 8

// pushDue sends the subscribe messages that are due.
func (s NotifyService) pushDue(ctx context.Context) error {
	if s.Messenger == nil {
		return nil
	}
	for {
		due, err := s.Store.DuePushes(ctx, s.Now(), 100)
		if err != nil {
			return fmt.Errorf("due pushes: %w", err)
		}
		for _, n := range due {
			if err := s.push(ctx, n); err != nil {
				return err
			}
		}
		if len(due) < 100 {
			return nil
		}
	}
}

// push sends one notice's message and stores how it went.
func (s NotifyService) push(ctx context.Context, n Notification) error {
	tmpl := s.Templates[n.Rule]
	openID, err := s.Store.WeChatOpenID(ctx, n.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		n.Push = PushUnbound
		return s.Store.SetPush(ctx, n)
	case err != nil:
		return fmt.Errorf("push: %w", err)
	}
	grants, err := s.Store.Grants(ctx, n.UserID)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if tmpl == "" || grants[tmpl] <= 0 {
		n.Push = PushUnsubscribed
		return s.Store.SetPush(ctx, n)
	}
	now := s.Now()
	err = s.Messenger.SendSubscribe(ctx, openID, tmpl, s.Page, MessageData(n, s.Loc))
	n.PushTries++
	switch {
	case err == nil:
		n.Push, n.PushError = PushSent, ""
		if _, err := s.Store.UseGrant(ctx, n.UserID, tmpl); err != nil {
			return fmt.Errorf("push: %w", err)
		}
	case errors.Is(err, ErrPushRefused):
		// The grant is not there after all: not retried, and forgotten.
		n.Push, n.PushError = PushRefused, err.Error()
		if err := s.Store.ClearGrants(ctx, n.UserID, tmpl); err != nil {
			return fmt.Errorf("push: %w", err)
		}
	case errors.Is(err, ErrPushRejected) || n.PushTries >= maxPushTries:
		n.Push, n.PushError = PushFailed, err.Error()
	default: // an outage: try again later, never in quiet hours
		n.PushError = err.Error()
		n.PushNext = DeliverAt(now.Add(min(time.Hour, time.Minute<<(n.PushTries-1))), s.Loc)
	}
	return s.Store.SetPush(ctx, n)
}

// MessageData is a notice as a subscribe message's data: thing1 the
// title, thing2 the text (WeChat takes 20 characters of a thing), time3
// when it was made. A template configured for a rule has these keys.
func MessageData(n Notification, loc *time.Location) map[string]string {
	cut := func(s string) string {
		r := []rune(s)
		if len(r) > 20 {
			return string(r[:19]) + "…"
		}
		return s
	}
	return map[string]string{"thing1": cut(n.Title), "thing2": cut(n.Body), "time3": n.CreatedAt.In(zoneOr(loc)).Format("2006-01-02 15:04")}
}

// Inbox is a page of a caller's notices and its count of unread.
type Inbox struct {
	List[Notification]
	Unread int64
}

// Inbox lists the caller's delivered notices, newest first.
func (s NotifyService) Inbox(ctx context.Context, c Caller, unread bool, p Page) (Inbox, error) {
	now := s.Now()
	l, err := s.Store.Notifications(ctx, c.UserID, now, unread, p)
	if err != nil {
		return Inbox{}, fmt.Errorf("inbox: %w", err)
	}
	n, err := s.Store.UnreadCount(ctx, c.UserID, now)
	if err != nil {
		return Inbox{}, fmt.Errorf("inbox: %w", err)
	}
	return Inbox{List: l, Unread: n}, nil
}

// Unread counts the caller's unread notices.
func (s NotifyService) Unread(ctx context.Context, c Caller) (int64, error) {
	return s.Store.UnreadCount(ctx, c.UserID, s.Now())
}

// MarkRead marks the caller's notices read (ids nil: all) and answers how
// many it marked and how many stay unread.
func (s NotifyService) MarkRead(ctx context.Context, c Caller, ids []string) (int64, int64, error) {
	var v Validator
	if ids != nil && (len(ids) == 0 || len(ids) > MaxPageLimit) {
		v.Add("ids", FieldRange, fmt.Sprintf("give 1 to %d ids, or all", MaxPageLimit))
	}
	for i, id := range ids {
		if !ValidID(id) {
			v.Add(fmt.Sprintf("ids[%d]", i), FieldInvalid, "not a notification's id")
		}
	}
	if err := v.Err(); err != nil {
		return 0, 0, err
	}
	now := s.Now()
	n, err := s.Store.MarkRead(ctx, c.UserID, ids, now, now)
	if err != nil {
		return 0, 0, fmt.Errorf("mark read: %w", err)
	}
	left, err := s.Store.UnreadCount(ctx, c.UserID, now)
	return n, left, err
}

// Subscription is a rule's subscribe message and the caller's grants of it.
type Subscription struct {
	Rule       string
	TemplateID string
	Remaining  int
}

// Subscriptions lists the rules with a template and the caller's grants.
func (s NotifyService) Subscriptions(ctx context.Context, c Caller) ([]Subscription, error) {
	grants, err := s.Store.Grants(ctx, c.UserID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	out := []Subscription{}
	for _, r := range NotificationRules {
		if t := s.Templates[r]; t != "" {
			out = append(out, Subscription{Rule: r, TemplateID: t, Remaining: grants[t]})
		}
	}
	return out, nil
}

// Subscribe records the templates the caller accepted in
// wx.requestSubscribeMessage: one message each (一次性订阅).
func (s NotifyService) Subscribe(ctx context.Context, c Caller, templateIDs []string) ([]Subscription, error) {
	var v Validator
	known := slices.Collect(maps.Values(s.Templates))
	if len(templateIDs) == 0 || len(templateIDs) > 20 {
		v.Add("accepted", FieldRange, "give 1 to 20 template ids")
	}
	for i, t := range templateIDs {
		if !slices.Contains(known, t) {
			v.Add(fmt.Sprintf("accepted[%d]", i), FieldUnknown, "not a template this server sends")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.Store.AddGrants(ctx, c.UserID, templateIDs); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return s.Subscriptions(ctx, c)
}
