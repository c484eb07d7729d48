from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("pagos/", views.my_orders, name="my_orders"),
    path("pagos/webhook/<str:provider>/", views.webhook, name="webhook"),
    path("pagos/<uuid:public_id>/", views.pay, name="pay"),
    path("pagos/<uuid:public_id>/tarjeta/", views.pay_card, name="pay_card"),
    path("pagos/<uuid:public_id>/efectivo/", views.cash, name="cash"),
    path("pagos/<uuid:public_id>/factura/", views.invoice, name="invoice"),
    path("pagos/<uuid:public_id>/pagado/", views.paid, name="paid"),
    path("pagos/<uuid:public_id>/recibo/", views.receipt, name="receipt"),
    path("pagos/<uuid:public_id>/recibo.pdf", views.receipt_pdf, name="receipt_pdf"),
]
