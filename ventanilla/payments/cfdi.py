"""The CFDI 4.0 data a receipt carries (SAT, Anexo 20 of the Resolución Miscelánea Fiscal and its
catalogues, catCFDI). The platform fills every field a PAC needs to stamp the invoice; stamping
itself (timbrado) is done by the Tesorería's PAC and is outside the platform.

Choices, with their catalogue:

* ClaveProdServ 93161700 "Administración tributaria" (c_ClaveProdServ, segment 93 "Servicios
  políticos y de asuntos cívicos", family 9316 "Tributación"): municipal contributions, derechos
  and aprovechamientos collected by the Tesorería. Configurable (VENTANILLA_CFDI_CLAVE_PROD_SERV).
* ClaveUnidad E48 "Unidad de servicio" (c_ClaveUnidad).
* ObjetoImp 01 "No objeto de impuesto": the Ley del IVA (art. 3) exempts municipalities from IVA on
  the acts that give rise to derechos or aprovechamientos; a city that charges IVA on some concept
  must change this per concept.
* MetodoPago PUE "Pago en una sola exhibición": the receipt is issued once the money is credited.
* FormaPago (c_FormaPago): 01 efectivo, 03 transferencia electrónica de fondos, 04 tarjeta de
  crédito, 28 tarjeta de débito.
* Receptor without an RFC: XAXX010101000 "público en general", RegimenFiscalReceptor 616
  "Sin obligaciones fiscales", UsoCFDI S01 "Sin efectos fiscales", DomicilioFiscalReceptor = the
  LugarExpedicion (the rules for público en general in Anexo 20's guía de llenado).
* Emisor RegimenFiscal default 603 "Personas Morales con Fines no Lucrativos" (Título III of the
  LISR, where municipalities are placed); configurable.
* TipoDeComprobante I "Ingreso" (c_TipoDeComprobante): the city receives money.
* Exportacion 01 "No aplica" (c_Exportacion): nothing is exported.
* InformacionGlobal, only for público en general (Receptor Rfc XAXX010101000 with Nombre
  "PUBLICO EN GENERAL": the node the guía de llenado requires for that receptor): Periodicidad 01
  "Diario" (c_Periodicidad: 01 Diario, 02 Semanal, 03 Quincenal, 04 Mensual, 05 Bimestral), Meses
  = the month of the payment in the city's time zone (c_Meses 01–12; 13–18 are the two-month
  periods, used only with Periodicidad 05) and Año = its year (four digits, 2019 or later in the
  XSD). A receipt in the payer's own name (their RFC) carries no InformacionGlobal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PUBLIC_RFC = "XAXX010101000"
PUBLIC_NAME = "PUBLICO EN GENERAL"
PUBLIC_REGIMEN = "616"
PUBLIC_USO = "S01"
METODO_PUE = "PUE"
OBJETO_NO_OBJETO = "01"
TIPO_INGRESO = "I"  # c_TipoDeComprobante
EXPORTACION_NO_APLICA = "01"  # c_Exportacion
PERIODICIDAD_DIARIO = "01"  # c_Periodicidad

TIPOS_DE_COMPROBANTE = {TIPO_INGRESO: gettext_lazy("Ingreso")}
EXPORTACIONES = {EXPORTACION_NO_APLICA: gettext_lazy("No aplica")}
PERIODICIDADES = {
    "01": gettext_lazy("Diario"),
    "02": gettext_lazy("Semanal"),
    "03": gettext_lazy("Quincenal"),
    "04": gettext_lazy("Mensual"),
    "05": gettext_lazy("Bimestral"),
}
# c_Meses 01-12 (13-18, the two-month periods, go only with Periodicidad 05 and are not used).
MESES = {
    "01": gettext_lazy("Enero"), "02": gettext_lazy("Febrero"), "03": gettext_lazy("Marzo"),
    "04": gettext_lazy("Abril"), "05": gettext_lazy("Mayo"), "06": gettext_lazy("Junio"),
    "07": gettext_lazy("Julio"), "08": gettext_lazy("Agosto"), "09": gettext_lazy("Septiembre"),
    "10": gettext_lazy("Octubre"), "11": gettext_lazy("Noviembre"), "12": gettext_lazy("Diciembre"),
}


@dataclass(frozen=True)
class InformacionGlobal:
    """The CFDI 4.0 node InformacionGlobal (attributes Periodicidad, Meses, Año)."""

    periodicidad: str
    meses: str
    anio: int


def is_publico_en_general(rfc: str, nombre: str) -> bool:
    return rfc == PUBLIC_RFC and nombre == PUBLIC_NAME


def informacion_global(rfc: str, nombre: str, operation_day: date) -> InformacionGlobal | None:
    """InformacionGlobal for a receipt to público en general (None for any other receptor): one
    day's operation, in the month and year it was paid (the city's calendar)."""
    if not is_publico_en_general(rfc, nombre):
        return None
    return InformacionGlobal(periodicidad=PERIODICIDAD_DIARIO, meses=f"{operation_day.month:02d}",
                             anio=operation_day.year)

FORMA_EFECTIVO = "01"
FORMA_TRANSFERENCIA = "03"
FORMA_CREDITO = "04"
FORMA_DEBITO = "28"

FORMAS_PAGO = {
    FORMA_EFECTIVO: gettext_lazy("Efectivo"),
    FORMA_TRANSFERENCIA: gettext_lazy("Transferencia electrónica de fondos"),
    FORMA_CREDITO: gettext_lazy("Tarjeta de crédito"),
    FORMA_DEBITO: gettext_lazy("Tarjeta de débito"),
}

# c_RegimenFiscal (CFDI 4.0)
REGIMENES = {
    "601": gettext_lazy("General de Ley Personas Morales"),
    "603": gettext_lazy("Personas Morales con Fines no Lucrativos"),
    "605": gettext_lazy("Sueldos y Salarios e Ingresos Asimilados a Salarios"),
    "606": gettext_lazy("Arrendamiento"),
    "607": gettext_lazy("Régimen de Enajenación o Adquisición de Bienes"),
    "608": gettext_lazy("Demás ingresos"),
    "610": gettext_lazy("Residentes en el Extranjero sin Establecimiento Permanente en México"),
    "611": gettext_lazy("Ingresos por Dividendos (socios y accionistas)"),
    "612": gettext_lazy("Personas Físicas con Actividades Empresariales y Profesionales"),
    "614": gettext_lazy("Ingresos por intereses"),
    "615": gettext_lazy("Régimen de los ingresos por obtención de premios"),
    "616": gettext_lazy("Sin obligaciones fiscales"),
    "620": gettext_lazy("Sociedades Cooperativas de Producción que optan por diferir sus ingresos"),
    "621": gettext_lazy("Incorporación Fiscal"),
    "622": gettext_lazy("Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras"),
    "623": gettext_lazy("Opcional para Grupos de Sociedades"),
    "624": gettext_lazy("Coordinados"),
    "625": gettext_lazy("Actividades Empresariales con ingresos a través de Plataformas Tecnológicas"),
    "626": gettext_lazy("Régimen Simplificado de Confianza"),
}

# c_UsoCFDI: the uses that make sense for a payment to the municipality.
USOS = {
    "G03": gettext_lazy("Gastos en general"),
    "S01": gettext_lazy("Sin efectos fiscales"),
}


def forma_pago(method: str, funding: str) -> str:
    if method == "cash":
        return FORMA_EFECTIVO
    if method == "bank":
        return FORMA_TRANSFERENCIA
    return FORMA_DEBITO if funding == "debit" else FORMA_CREDITO


class InvoiceDataError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class InvoiceData:
    rfc: str
    name: str
    postal_code: str
    regimen: str
    uso_cfdi: str


def clean_invoice_data(*, rfc: str, name: str, postal_code: str, regimen: str, uso_cfdi: str) -> InvoiceData:
    """Validate the data a payer gives to receive the CFDI in their own name."""
    from ventanilla.identity import rfc as rfc_module

    errors: dict[str, str] = {}
    clean_rfc = ""
    try:
        parsed = rfc_module.parse(rfc or "")
        clean_rfc = parsed.value
        if clean_rfc in rfc_module.GENERIC:
            errors["rfc"] = _("Para factura a su nombre escriba su propio RFC, no el genérico.")
    except rfc_module.RfcError as exc:
        errors["rfc"] = str(exc)
    clean_name = " ".join((name or "").split()).upper()
    if not clean_name:
        errors["name"] = _("Escriba el nombre o razón social tal como aparece en su constancia de situación fiscal.")
    elif len(clean_name) > 254:
        errors["name"] = _("El nombre es demasiado largo.")
    cp = (postal_code or "").strip()
    if not (len(cp) == 5 and cp.isascii() and cp.isdigit()):
        errors["postal_code"] = _("El código postal tiene 5 números.")
    if regimen not in REGIMENES:
        errors["regimen"] = _("Elija su régimen fiscal.")
    if uso_cfdi not in USOS:
        errors["uso_cfdi"] = _("Elija el uso del CFDI.")
    if errors:
        raise InvoiceDataError(errors)
    return InvoiceData(rfc=clean_rfc, name=clean_name, postal_code=cp, regimen=regimen, uso_cfdi=uso_cfdi)
