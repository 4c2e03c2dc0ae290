package web

import (
	"cmp"
	"fmt"
	"math"

	"zhucun/domain"
)

// mapView is the villages drawn at their positions (no tile server): the
// round's villages coloured by light, the others small and grey.
type mapView struct {
	W, H   int
	Points []mapPoint
	Counts map[string]int // lights
}

type mapPoint struct {
	X, Y, R float64
	Class   string
	Title   string
	Href    string
}

const mapW, mapH, mapPad = 640, 420, 16

func drawMap(villages []domain.Village, lights []domain.SelectedLight, query string) mapView {
	m := mapView{W: mapW, H: mapH, Counts: map[string]int{}}
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, v := range villages {
		if v.Location == nil {
			continue
		}
		minLat, maxLat = min(minLat, v.Location.Lat), max(maxLat, v.Location.Lat)
		minLng, maxLng = min(minLng, v.Location.Lng), max(maxLng, v.Location.Lng)
	}
	if math.IsInf(minLat, 1) {
		return m
	}
	// Equal scale on both axes, as a map is: a degree of longitude is
	// shorter by the cosine of the latitude.
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX, spanY := cmp.Or((maxLng-minLng)*k, 1e-6), cmp.Or(maxLat-minLat, 1e-6)
	scale := min(float64(mapW-2*mapPad)/spanX, float64(mapH-2*mapPad)/spanY)
	byID := map[string]domain.SelectedLight{}
	for _, l := range lights {
		byID[l.VillageID] = l
	}
	var top []mapPoint
	for _, v := range villages {
		if v.Location == nil {
			continue
		}
		pt := mapPoint{X: math.Round((mapPad+(v.Location.Lng-minLng)*k*scale)*10) / 10, Y: math.Round((mapH-mapPad-(v.Location.Lat-minLat)*scale)*10) / 10,
			R: 2.5, Class: "other", Title: v.Name + "（未列入整顿）"}
		if l, ok := byID[v.ID]; ok {
			name := cmp.Or(lightNames[l.Light.Light], "未评定")
			pt.R, pt.Class = 7, "light-"+cmp.Or(l.Light.Light, "none")
			pt.Title = fmt.Sprintf("%s（%s整顿村，%s）", v.Name, levelNames[l.Level], name)
			pt.Href = "/villages/" + v.ID + "?" + query
			m.Counts[l.Light.Light]++
			top = append(top, pt)
			continue
		}
		m.Points = append(m.Points, pt)
	}
	m.Points = append(m.Points, top...) // the round's villages on top
	return m
}

// trendView is a bar chart of one count per period.
type trendView struct {
	Metric   metric
	Metrics  []metric            // the choice of counts
	Query    map[string][]string // the page's period, kept when the count changes
	Interval string
	W, H     int
	Bars     []bar
	Max      string
}

type bar struct {
	X, Y, W, H float64
	Label      string
	Value      int64
	Shown      string
	LabelX     float64
}

const trendW, trendH, trendBase = 640, 220, 190

func drawTrend(m metric, interval string, pts []domain.SeriesPoint) trendView {
	t := trendView{Metric: m, Interval: interval, W: trendW, H: trendH}
	var top int64 = 1
	for _, p := range pts {
		top = max(top, asInt(p.Value))
	}
	t.Max = show(m, top)
	n := max(len(pts), 1)
	slot := float64(trendW-40) / float64(n)
	for i, p := range pts {
		v := asInt(p.Value)
		h := float64(v) / float64(top) * (trendBase - 30)
		x := 30 + float64(i)*slot
		label := p.Period.ID
		if interval == "month" && len(p.Period.From) >= 7 {
			label = p.Period.From[5:7] + "月"
		} else if len(p.Period.From) >= 10 {
			label = p.Period.From[5:]
		}
		t.Bars = append(t.Bars, bar{X: math.Round(x*10) / 10, Y: math.Round((trendBase-h)*10) / 10, W: math.Round(slot*0.7*10) / 10,
			H: math.Round(h*10) / 10, Label: label, Value: v, Shown: show(m, v), LabelX: math.Round((x+slot*0.35)*10) / 10})
	}
	return t
}
