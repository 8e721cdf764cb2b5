"""The partner portal: ``create_app`` wires configuration, extensions and features."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS


def create_app(config=None, **overrides) -> Flask:
    """Build the app.

    ``config`` is an environment name ('development', 'testing', 'production'), a config
    class, or None for ``PORTAL_ENV`` (default development). ``overrides`` win over both.
    Nothing here creates or upgrades the database: ``flask --app wsgi db upgrade`` does.
    """
    app = Flask(__name__, instance_relative_config=False)
    if config is None or isinstance(config, str):
        name = config or os.environ.get("PORTAL_ENV", "development")
        if name not in CONFIGS:
            raise RuntimeError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
        config = CONFIGS[name]
    app.config.from_object(config)
    app.config.update(overrides)
    if hasattr(config, "check"):
        config.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "portal.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"

    if app.config["TRUSTED_PROXY_COUNT"]:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(app)
    _register_features(app)
    return app


def _init_extensions(app):
    from portal import mail, search, storage
    from portal.auth.services import load_user
    from portal.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    mail.init_app(app)
    search.init_app(app)
    storage.init_app(app)


def _register_features(app):
    from portal.acknowledgements.routes import bp as acknowledgements_bp
    from portal.announcements.routes import bp as announcements_bp
    from portal.attachments.routes import bp as attachments_bp
    from portal.audit.cli import audit_cli
    from portal.audit.routes import bp as audit_bp
    from portal.auth.routes import bp as auth_bp
    from portal.compliance.dashboard_routes import bp as compliance_bp
    from portal.compliance.person_routes import bp as person_compliance_bp
    from portal.compliance.review_routes import bp as business_review_bp
    from portal.core import errors, security, templating
    from portal.core.routes import bp as core_bp
    from portal.demo.cli import demo_cli
    from portal.home.routes import bp as home_bp
    from portal.library.cli import content_cli
    from portal.library.routes import bp as library_bp
    from portal.mail.cli import mail_cli
    from portal.mail.routes import bp as mail_bp
    from portal.notifications.routes import bp as notifications_bp
    from portal.onboarding.builder_routes import bp as path_builder_bp
    from portal.onboarding.cohort_routes import bp as onboarding_cohorts_bp
    from portal.onboarding.routes import bp as onboarding_bp
    from portal.partners.cli import partners_cli
    from portal.partners.routes import bp as partners_bp
    from portal.people.cli import users_cli
    from portal.people.routes import bp as people_bp
    from portal.records.cli import records_cli
    from portal.reminders.cli import reminders_cli
    from portal.roster.routes import bp as roster_bp
    from portal.search.cli import search_cli
    from portal.search.routes import bp as search_bp
    from portal.training.editor_routes import bp as course_editor_bp
    from portal.training.report_routes import bp as training_reports_bp
    from portal.training.routes import bp as training_bp

    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    blueprints = (
        core_bp,
        home_bp,
        auth_bp,
        partners_bp,
        people_bp,
        roster_bp,
        audit_bp,
        library_bp,
        acknowledgements_bp,
        attachments_bp,
        search_bp,
        announcements_bp,
        notifications_bp,
        mail_bp,
        course_editor_bp,
        training_reports_bp,
        training_bp,
        path_builder_bp,
        onboarding_cohorts_bp,
        onboarding_bp,
        business_review_bp,
        person_compliance_bp,
        compliance_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    commands = (
        partners_cli,
        users_cli,
        demo_cli,
        content_cli,
        search_cli,
        mail_cli,
        reminders_cli,
        audit_cli,
        records_cli,
    )
    for command in commands:
        app.cli.add_command(command)
