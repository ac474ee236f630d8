"""The sales app's records, one module a concept: deals (pipelines, stages, deals, products),
orders and invoices, tasks, campaigns. Import them from here."""

from sales.models.campaigns import Campaign, CampaignChannel, CampaignMember, MemberStatus
from sales.models.deals import (
    CENT,
    Deal,
    DealContact,
    DealLine,
    Pipeline,
    PricedLine,
    Product,
    ProductTag,
    Stage,
    StageChange,
    currency_validator,
    line_total,
)
from sales.models.orders import (
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from sales.models.scoring import (
    BEHAVIOUR_KINDS,
    RuleKind,
    RunStatus,
    ScoreDirty,
    ScoreExplanation,
    ScoreHistory,
    ScoreRun,
    ScoringRule,
    ScoringSettings,
)
from sales.models.tasks import Task, TaskKind, TaskPriority

__all__ = [
    "BEHAVIOUR_KINDS", "RuleKind", "RunStatus", "ScoreDirty", "ScoreExplanation", "ScoreHistory", "ScoreRun",
    "ScoringRule", "ScoringSettings",
    "CENT", "Campaign", "CampaignChannel", "CampaignMember", "Deal", "DealContact", "DealLine", "Invoice", "InvoiceLine",
    "InvoiceSequence", "InvoiceStatus", "MemberStatus", "Order", "OrderChannel", "OrderLine", "OrderStatus", "Payment",
    "PaymentMethod", "Pipeline", "PricedLine", "Product", "ProductTag", "Stage", "StageChange", "Task", "TaskKind",
    "TaskPriority", "currency_validator", "line_total",
]
