package api

import (
	"context"
	"embed"
	"io/fs"
	"mime"
	"path"

	"github.com/gofiber/fiber/v2"
	swaggerfiles "github.com/swaggo/files/v2"
)

//go:embed web
var webFS embed.FS

// swaggerAssets are the Swagger UI files served under /docs, from the
// github.com/swaggo/files/v2 module.
var swaggerAssets = map[string]bool{
	"swagger-ui.css": true, "swagger-ui-bundle.js": true, "swagger-ui-standalone-preset.js": true,
	"favicon-32x32.png": true, "favicon-16x16.png": true,
}

func (s *server) docsIndex(c *fiber.Ctx) error {
	b, err := webFS.ReadFile("web/index.html")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(b)
}

func (s *server) docsAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	var (
		b   []byte
		err error
	)
	switch {
	case name == "zhucun-docs.js":
		b, err = webFS.ReadFile("web/zhucun-docs.js")
	case swaggerAssets[name]:
		b, err = fs.ReadFile(swaggerfiles.FS, name)
	default:
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(b)
}

func (s *server) spec(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	return c.Send(s.cfg.Spec)
}

func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.cfg.Version})
}

func (s *server) readyz(c *fiber.Ctx) error {
	cx, cancel := context.WithTimeout(ctx(c), s.cfg.ReadyTimeout)
	defer cancel()
	if err := s.svc.Ready(cx); err != nil {
		s.log.Warn("not ready", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
